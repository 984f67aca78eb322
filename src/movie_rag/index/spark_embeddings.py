"""Document embeddings computed on a Spark cluster, for a self-managed index at scale.

:func:`embed_on_spark` embeds a DataFrame's document column with ``mapInPandas``: each
Python worker loads the encoder once (the ONNX export, or the torch model) and embeds its
partitions batch by batch, so a first index of ml-25m's 62k documents spreads over the
executors instead of one process. The vectors are the ones :class:`LocalEmbeddings`
computes in-process with the same settings (a test holds them equal in local mode).

The model directory and the ONNX export must be readable at the same path on every
executor (a Unity Catalog volume or DBFS path on Databricks; any local path in local mode).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from movie_rag.index.embeddings import DEFAULT_MODEL_NAME, EmbeddingBackend, LocalEmbeddings

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

__all__ = ["embed_on_spark"]

# One encoder per (model, export, backend) and Python worker: Spark reuses its workers
# between tasks (spark.python.worker.reuse), so the model loads once per executor process.
_ENCODERS: dict[tuple[str | None, str | None, str, int], LocalEmbeddings] = {}
_ENCODERS_LOCK = threading.Lock()


def _encoder(
    model_path: str | None, onnx_dir: str | None, backend: EmbeddingBackend, batch_size: int
) -> LocalEmbeddings:
    key = (model_path, onnx_dir, backend, batch_size)
    with _ENCODERS_LOCK:
        encoder = _ENCODERS.get(key)
        if encoder is None:
            encoder = LocalEmbeddings(
                model_path,
                model_name=DEFAULT_MODEL_NAME,
                batch_size=batch_size,
                backend=backend,
                onnx_dir=onnx_dir,
            )
            _ENCODERS[key] = encoder
        return encoder


def embed_on_spark(
    frame: DataFrame,
    *,
    id_column: str = "movie_id",
    text_column: str = "document",
    model_path: str | os.PathLike[str] | None = None,
    onnx_dir: str | os.PathLike[str] | None = None,
    backend: EmbeddingBackend = "auto",
    batch_size: int = 32,
) -> DataFrame:
    """Embed ``text_column`` of ``frame`` on the executors (``mapInPandas``).

    Args:
        frame: A DataFrame with ``id_column`` (integer) and ``text_column`` (string).
        id_column: The key returned with each vector.
        text_column: The texts to embed (null embeds as the empty string).
        model_path: The sentence-transformers model directory, readable on the executors
            (default: the bundled all-MiniLM-L6-v2 of each executor's environment).
        onnx_dir: Where the ONNX export is (or is made), readable on the executors; with
            ``backend="auto"`` its presence selects the ONNX encoder.
        backend: ``auto``, ``onnx`` or ``torch``, as for :class:`LocalEmbeddings`.
        batch_size: Texts per forward pass.

    Returns:
        A DataFrame of ``id_column`` (long) and ``vector`` (array of float), one row per
        input row: unit vectors, lazily computed like any Spark transformation.

    Example:
        >>> vectors = embed_on_spark(movies_info, onnx_dir="/Volumes/main/movies/encoder")
        ... # doctest: +SKIP
    """
    model = str(Path(model_path)) if model_path is not None else None
    export = str(Path(onnx_dir)) if onnx_dir is not None else None
    schema = f"`{id_column}` long, vector array<float>"

    def embed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        encoder = _encoder(model, export, backend, batch_size)
        for batch in batches:
            texts = ["" if text is None else str(text) for text in batch[text_column]]
            vectors = encoder.encode(texts)
            out: dict[str, Any] = {
                id_column: batch[id_column].astype("int64").to_numpy(),
                "vector": list(vectors),
            }
            yield pd.DataFrame(out)

    return frame.select(id_column, text_column).mapInPandas(embed, schema)
