"""LocalEmbeddings: the bundled all-MiniLM-L6-v2, offline, as a LangChain Embeddings."""

from __future__ import annotations

import pickle

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
