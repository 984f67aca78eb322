"""The public names of movie_rag.index, and that importing them stays cheap."""

from __future__ import annotations

import subprocess
import sys

import movie_rag.index

PUBLIC = {
    "DatabricksVectorIndex",
    "IndexMismatchError",
    "IndexNotReadyError",
    "IndexStatus",
    "LocalEmbeddings",
    "LocalVectorIndex",
    "MovieIndexRetriever",
    "MovieVectorStore",
    "OnnxSentenceEncoder",
    "SearchFilters",
    "SearchHit",
    "SyncReport",
    "TextEncoder",
    "UnknownMovieError",
    "VectorIndex",
    "VectorIndexManager",
    "embed_on_spark",
    "export_onnx",
}


def test_public_names_are_locked() -> None:
    assert set(movie_rag.index.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(movie_rag.index, name).__name__ == name


def test_importing_the_index_modules_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "import movie_rag, movie_rag.index\n"
        "from movie_rag.index import LocalEmbeddings, LocalVectorIndex, SearchFilters,"
        " VectorIndexManager\n"
        "import movie_rag.index.base, movie_rag.index.filters, movie_rag.index.manager\n"
        "from movie_rag.settings import MovieRagSettings\n"
        "VectorIndexManager(MovieRagSettings(workdir='/tmp/never-created'))\n"
        "assert LocalEmbeddings().dimension == 384\n"
        "heavy = {'torch', 'sentence_transformers', 'faiss', 'transformers'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"
