"""Document embeddings on Spark (mapInPandas) equal the in-process LocalEmbeddings ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sample_movies import movies_table

from movie_rag.index import LocalEmbeddings, embed_on_spark

pytestmark = pytest.mark.slow


def test_spark_vectors_equal_the_local_ones(spark, tmp_path_factory: pytest.TempPathFactory):
    encoder_dir: Path = tmp_path_factory.mktemp("spark_encoder")
    table = movies_table().select(["movie_id", "document"])
    local = LocalEmbeddings(backend="onnx", onnx_dir=encoder_dir)
    expected = local.encode(table.column("document").to_pylist())
    frame = spark.createDataFrame(table.to_pandas()).repartition(3)
    rows = embed_on_spark(frame, onnx_dir=encoder_dir, backend="onnx").collect()
    assert len(rows) == table.num_rows
    by_id = {int(row["movie_id"]): np.asarray(row["vector"], dtype=np.float32) for row in rows}
    ids = table.column("movie_id").to_pylist()
    got = np.stack([by_id[movie_id] for movie_id in ids])
    assert got.shape == expected.shape == (table.num_rows, 384)
    # Batches differ (partitions), so padding differs: equal to float32 rounding.
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert float(np.min((got * expected).sum(axis=1))) > 0.99999
