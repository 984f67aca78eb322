"""The installable package: public names, import cost, and what an install really resolved."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import movie_rag

REPO = Path(__file__).resolve().parents[1]

PUBLIC_NAMES = [
    "BuildReport",
    "ConfigurationError",
    "DataValidationError",
    "DocumentTemplate",
    "DownloadError",
    "EndpointClient",
    "IMDBLoader",
    "IMDBSource",
    "InputFileError",
    "ModelPublisher",
    "MovieInfoBuilder",
    "MovieLensData",
    "MovieLensLoader",
    "MovieRagError",
    "MovieRagSettings",
    "Platform",
    "Quarantine",
    "Recommendation",
    "RecommendationResponse",
    "RecommenderChain",
    "SearchFilters",
    "SourcePrecedence",
    "TableStore",
    "VectorIndexManager",
    "Workdir",
    "WorkdirError",
    "WorkspaceAuthError",
    "build_catalogue",
    "fetch_movielens",
    "get_spark",
    "platform_for",
    "sample_catalogue",
    "workspace_client",
    "workspace_config",
]


def test_public_names_are_locked() -> None:
    assert movie_rag.__all__ == PUBLIC_NAMES
    for name in PUBLIC_NAMES:
        assert getattr(movie_rag, name) is not None
    with pytest.raises(AttributeError):
        _ = movie_rag.NoSuchThing  # type: ignore[attr-defined]


def test_import_is_fast_and_light() -> None:
    code = (
        "import json, sys, time; t = time.perf_counter(); import movie_rag; "
        "t = time.perf_counter() - t; "
        "heavy = [m for m in ('pyspark', 'torch', 'mlflow', 'sentence_transformers', 'faiss', "
        "'gradio', 'databricks', 'pandas') if m in sys.modules]; "
        "print(json.dumps({'seconds': t, 'heavy': heavy}))"
    )
    best = min(
        json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))["seconds"]
        for _ in range(3)
    )
    result = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert result["heavy"] == []
    assert best < 0.5


#: Every package face, and what importing it must not pull in.
FACES = (
    "movie_rag",
    "movie_rag.catalog",
    "movie_rag.collab",
    "movie_rag.evaluation",
    "movie_rag.feedback",
    "movie_rag.index",
    "movie_rag.ingest",
    "movie_rag.publish",
    "movie_rag.ui",
)
HEAVY = ("pyspark", "torch", "mlflow", "sentence_transformers", "gradio", "databricks")


def test_every_package_face_is_light_and_exports_what_all_lists() -> None:
    # A fresh interpreter: importing each face pulls nothing heavy; then every name in
    # __all__ resolves, to an object defined where the face says.
    code = (
        "import importlib, json, sys\n"
        f"faces = {FACES!r}\n"
        "mods = [importlib.import_module(f) for f in faces]\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "missing = [f'{m.__name__}.{n}' for m in mods for n in m.__all__\n"
        "           if getattr(m, n, None) is None]\n"
        "print(json.dumps({'heavy': heavy, 'missing': missing,\n"
        "                  'all': {m.__name__: len(m.__all__) for m in mods}}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["heavy"] == []
    assert reply["missing"] == []
    assert all(reply["all"].values()), reply["all"]


def test_a_face_names_itself_when_a_name_is_missing() -> None:
    import movie_rag.catalog

    with pytest.raises(AttributeError, match=r"'movie_rag\.catalog' has no attribute 'nope'"):
        _ = movie_rag.catalog.nope  # type: ignore[attr-defined]
    assert "MOVIES_INFO_SCHEMA" in dir(movie_rag.catalog)


def test_lazy_exports_refuses_an_all_that_disagrees() -> None:
    from movie_rag._exports import lazy_exports

    with pytest.raises(RuntimeError, match=r"disagree on \['b'\]"):
        lazy_exports("pkg", {"a": "math"}, ["a", "b"])


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_base_install_is_safe_on_a_databricks_cluster() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = _requirement_names(project["dependencies"])
    assert not base & {"pyspark", "torch", "sentence-transformers", "mlflow", "databricks-connect"}
    extras = project["optional-dependencies"]
    for extra, requirements in extras.items():
        # databricks-langchain drags in databricks-connect, which overwrites pyspark's files.
        assert "databricks-langchain" not in _requirement_names(requirements), extra
        assert "databricks-connect" not in _requirement_names(requirements), extra
    local = {r.split(";")[0].replace(" ", "") for r in extras["local"]}
    assert "torch==2.13.0" in local  # the only pin that resolves to the CPU build
    assert any(r.startswith("pandas") and "<3" in r for r in local)


def test_resolved_environment_is_sane() -> None:
    """Inspect what installing the project with its local extra actually resolved."""
    installed = {
        (dist.metadata["Name"] or "").lower().replace("_", "-"): dist
        for dist in metadata.distributions()
    }
    assert "databricks-connect" not in installed
    assert not [name for name in installed if name.startswith("nvidia-")], "CUDA wheels pulled"
    assert metadata.version("torch").startswith("2.13.0")
    assert (
        "+cpu" in metadata.version("torch")
        or not Path(
            metadata.distribution("torch").locate_file("torch/lib/libtorch_cuda.so")
        ).exists()
    )
    assert int(metadata.version("pandas").split(".")[0]) < 3
    # pyspark's files belong to pyspark (databricks-connect would have overwritten them).
    spark_files = metadata.distribution("pyspark").files or []
    assert any(str(f).endswith("pyspark/sql/session.py") for f in spark_files)
    for name, dist in installed.items():
        if name == "pyspark":
            continue
        assert not any(str(f).startswith("pyspark/") for f in dist.files or []), name


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "movie_rag.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.strip() == movie_rag.__version__
