"""LocalEmbeddings: the bundled all-MiniLM-L6-v2, offline, as a LangChain Embeddings."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from movie_rag.errors import ConfigurationError
from movie_rag.index import LocalEmbeddings, TextEncoder

pytestmark = pytest.mark.slow

TEXTS = [
    "A cowboy doll is jealous of a space ranger toy.",
    "Cloned dinosaurs escape on an island theme park.",
    "Two detectives hunt a serial killer inspired by the seven deadly sins.",
]


def test_is_a_langchain_embeddings_and_a_text_encoder(embeddings: LocalEmbeddings) -> None:
    assert isinstance(embeddings, Embeddings)
    assert isinstance(embeddings, TextEncoder)
    assert embeddings.model_name == "all-MiniLM-L6-v2"
    assert embeddings.dimension == 384
    assert embeddings.batch_size == 32
    assert embeddings.max_tokens == 256


def test_vectors_are_normalised_float32(embeddings: LocalEmbeddings) -> None:
    vectors = embeddings.encode(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embeddings.encode([]).shape == (0, 384)


def test_matches_raw_sentence_transformers(embeddings: LocalEmbeddings) -> None:
    raw = embeddings.model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(embeddings.embed_documents(TEXTS), raw, atol=1e-5)
    np.testing.assert_allclose(embeddings.embed_query(TEXTS[1]), raw[1], atol=1e-5)


def test_similar_texts_are_closer(embeddings: LocalEmbeddings) -> None:
    query = embeddings.encode_query("dinosaur park disaster")
    scores = embeddings.encode(TEXTS) @ query
    assert int(np.argmax(scores)) == 1


def test_pickles_without_the_loaded_model(embeddings: LocalEmbeddings) -> None:
    payload = pickle.dumps(embeddings)
    assert len(payload) < 10_000
    clone = pickle.loads(payload)
    np.testing.assert_allclose(clone.embed_query("x"), embeddings.embed_query("x"), atol=1e-6)


def test_a_directory_without_a_model_is_a_configuration_error(tmp_path: object) -> None:
    with pytest.raises(ConfigurationError, match="sentence-transformers model"):
        LocalEmbeddings(model_path=str(tmp_path)).encode(["x"])
    with pytest.raises(ValueError, match="batch_size"):
        LocalEmbeddings(batch_size=0)


# -- the ONNX backend ------------------------------------------------------------------

#: Texts of very different lengths (batches are sorted by length and padded per batch).
VARIED = [
    *TEXTS,
    "Heist.",
    " ".join(["A long plot about a family, a war and a journey across the sea."] * 40),
    "Zwei Freunde reisen durch Europa; une comédie douce-amère à Paris.",
]


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("encoder")


@pytest.fixture(scope="module")
def onnx_embeddings(onnx_dir: Path) -> LocalEmbeddings:
    emb = LocalEmbeddings(backend="onnx", onnx_dir=onnx_dir)
    assert emb.active_backend == "onnx"
    return emb


def test_onnx_vectors_match_torch_within_cosine_0999(
    onnx_embeddings: LocalEmbeddings, embeddings: LocalEmbeddings
) -> None:
    onnx = onnx_embeddings.encode(VARIED)
    torch = embeddings.model.encode(VARIED, normalize_embeddings=True)
    assert onnx.dtype == np.float32 and onnx.shape == (len(VARIED), 384)
    np.testing.assert_allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)
    cosine = (onnx * torch).sum(axis=1)
    assert cosine.min() >= 0.999, cosine
    # The same at batch size 1 (a query) and out of order: rows follow the input order.
    assert float(onnx_embeddings.encode_query(VARIED[4]) @ torch[4]) >= 0.999
    assert onnx_embeddings.max_tokens == 256


def test_onnx_export_is_cached_and_reused(onnx_embeddings: LocalEmbeddings, onnx_dir: Path) -> None:
    exports = sorted(onnx_dir.glob("*.onnx"))
    assert len(exports) == 1 and exports[0].stat().st_size > 10_000_000
    stamp = exports[0].stat().st_mtime_ns
    again = LocalEmbeddings(onnx_dir=onnx_dir)  # auto: the export is there, so onnx
    assert again.active_backend == "onnx"
    np.testing.assert_allclose(again.encode(TEXTS), onnx_embeddings.encode(TEXTS), atol=1e-6)
    assert exports[0].stat().st_mtime_ns == stamp  # not exported again


def test_a_new_onnx_dir_takes_the_export_from_the_user_cache(
    onnx_embeddings: LocalEmbeddings, tmp_path: Path
) -> None:
    from movie_rag.index.onnx_encoder import onnx_cache_file, shared_onnx_cache

    shared = onnx_cache_file(onnx_embeddings.model_path, shared_onnx_cache())
    assert shared.is_file()  # the first export was kept for other workdirs
    fresh = LocalEmbeddings(onnx_dir=tmp_path / "encoder")
    assert fresh.active_backend == "onnx"
    placed = onnx_cache_file(fresh.model_path, tmp_path / "encoder")
    assert placed.is_file() and placed.stat().st_size == shared.stat().st_size


def test_query_path_on_onnx_imports_no_torch(
    onnx_embeddings: LocalEmbeddings, onnx_dir: Path
) -> None:
    code = (
        "import sys\n"
        "from movie_rag.index import LocalEmbeddings\n"
        f"emb = LocalEmbeddings(onnx_dir={str(onnx_dir)!r})\n"
        "vector = emb.encode_query('a heist movie with a twist')\n"
        "assert emb.active_backend == 'onnx', emb.active_backend\n"
        "assert vector.shape == (384,)\n"
        "heavy = sorted(m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "heavy: []" in result.stdout


def test_backend_choice_and_errors(tmp_path: Path) -> None:
    assert LocalEmbeddings().active_backend == "torch"  # auto with nowhere to keep an export
    assert LocalEmbeddings(backend="torch", onnx_dir=tmp_path).active_backend == "torch"
    with pytest.raises(ConfigurationError, match="onnx_dir"):
        LocalEmbeddings(backend="onnx").encode(["x"])
    with pytest.raises(ValueError, match="backend"):
        LocalEmbeddings(backend="tensorflow")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="sentence-transformers model"):
        LocalEmbeddings(model_path=tmp_path, backend="onnx", onnx_dir=tmp_path).encode(["x"])


def test_onnx_cache_key_follows_the_weights(tmp_path: Path) -> None:
    from movie_rag.index.onnx_encoder import onnx_cache_file

    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"1234")
    first = onnx_cache_file(model, tmp_path)
    assert first == onnx_cache_file(model, tmp_path)
    weights.write_bytes(b"12345")
    assert onnx_cache_file(model, tmp_path) != first
    with pytest.raises(ConfigurationError, match="no transformer weights"):
        onnx_cache_file(tmp_path / "empty", tmp_path)


# Measured on the real build (bench_index.py --int8): 500 generated queries, cosine int8 vs fp32
# min 0.922, median 0.969; 256 real documents: min 0.907, median 0.951 (docs/performance.md).
INT8_QUERY_COSINE = 0.9


def test_int8_query_vectors_stay_close_to_fp32(
    onnx_embeddings: LocalEmbeddings, tmp_path: Path
) -> None:
    from movie_rag.index.onnx_encoder import int8_file

    int8 = LocalEmbeddings(onnx_dir=tmp_path / "encoder", query_int8=True)
    assert int8.active_backend == "onnx"
    for text in VARIED:
        fp32 = onnx_embeddings.encode_query(text)
        quantised = int8.encode_query(text)
        assert quantised.dtype == np.float32 and quantised.shape == (384,)
        assert abs(float(np.linalg.norm(quantised)) - 1.0) < 1e-5
        assert float(quantised @ fp32) >= INT8_QUERY_COSINE
    # Documents stay fp32: an index built without the option is searched unchanged.
    np.testing.assert_allclose(int8.encode(TEXTS), onnx_embeddings.encode(TEXTS), atol=1e-6)
    fp32_file = int8._onnx_encoder().onnx_file
    quantised_file = int8_file(fp32_file)
    assert quantised_file.is_file()
    assert quantised_file.stat().st_size < fp32_file.stat().st_size / 2
    # Pickled copies (served models) quantise nothing again and keep the option.
    copy = pickle.loads(pickle.dumps(int8))
    assert copy.query_int8 is True
    np.testing.assert_allclose(
        copy.encode_query(VARIED[0]), int8.encode_query(VARIED[0]), atol=1e-6
    )


def test_int8_and_backend_settings_round_trip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_rag.index.manager import VectorIndexManager
    from movie_rag.publish.model_spec import model_config
    from movie_rag.settings import MovieRagSettings

    assert MovieRagSettings(workdir=tmp_path).embedding_query_int8 is False
    settings = MovieRagSettings(
        workdir=tmp_path, embedding_query_int8=True, embedding_backend="torch"
    )
    logged = model_config(settings, "local")["settings"]
    assert logged["embedding_query_int8"] is True and logged["embedding_backend"] == "torch"
    again = MovieRagSettings(**logged)
    assert again.embedding_query_int8 is True and again.embedding_backend == "torch"
    monkeypatch.setenv("MOVIE_RAG_EMBEDDING_QUERY_INT8", "1")
    monkeypatch.setenv("MOVIE_RAG_EMBEDDING_BACKEND", "onnx")
    from_env = MovieRagSettings(workdir=tmp_path)
    assert from_env.embedding_query_int8 is True and from_env.embedding_backend == "onnx"
    embedder = VectorIndexManager(from_env)._default_embeddings(8)
    assert isinstance(embedder, LocalEmbeddings)
    assert embedder.query_int8 is True and embedder.backend == "onnx"
