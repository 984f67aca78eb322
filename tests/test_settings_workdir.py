from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from movie_rag import MovieRagSettings, Workdir


def test_env_prefix_and_init_args_override_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIE_RAG_BACKEND", "databricks")
    monkeypatch.setenv("MOVIE_RAG_CATALOG", "prod")
    monkeypatch.setenv("MOVIE_RAG_GENOME_THRESHOLD", "0.6")
    settings = MovieRagSettings()
    assert (settings.backend, settings.catalog, settings.genome_threshold) == (
        "databricks",
        "prod",
        0.6,
    )
    assert MovieRagSettings(backend="local", genome_threshold=0.5).backend == "local"
    assert MovieRagSettings(genome_threshold=0.5).genome_threshold == 0.5


def test_table_names_per_backend() -> None:
    local = MovieRagSettings(backend="local")
    assert local.table_name("movies_info") == "movies_info"
    remote = MovieRagSettings(backend="databricks", catalog="main", bronze_schema="raw")
    assert remote.table_name("movies_info") == "main.silver.movies_info"
    assert remote.table_name("movielens_ratings", "bronze") == "main.raw.movielens_ratings"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("catalog", "my-catalog"),
        ("bronze_schema", "1raw"),
        ("backend", "aws"),
        ("genome_threshold", 1.5),
        ("unknown_setting", 1),
    ],
)
def test_bad_settings_are_rejected_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        MovieRagSettings(**{field: value})


def test_workdir_layout(tmp_path: Path) -> None:
    wd = Workdir(tmp_path / "w").ensure()
    assert wd.table("movies_info") == tmp_path / "w" / "tables" / "movies_info"
    assert wd.quarantine_for("movielens_ratings").parent == wd.quarantine
    for path in (wd.index, wd.collab, wd.mlflow, wd.inference_logs, wd.feedback, wd.reports):
        assert path.is_dir() and path.is_relative_to(wd.root)
    assert Workdir(tmp_path / "w") == wd
    with pytest.raises(ValueError, match="not a valid"):
        wd.table("../escape")
