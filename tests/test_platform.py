"""The one backend switch: settings reject unknown values; platform_for is the only reader."""

from __future__ import annotations

import ast
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from movie_rag.catalog import MOVIES_INFO_SCHEMA
from movie_rag.errors import ConfigurationError
from movie_rag.platform import DatabricksPlatform, LocalPlatform, Platform, platform_for
from movie_rag.settings import MovieRagSettings

SRC = Path(__file__).resolve().parents[1] / "src" / "movie_rag"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("MOVIE_RAG_BACKEND", "databrick"), ("MOVIE_RAG_LLM_PROVIDER", "anthropic")],
)
def test_an_unknown_backend_or_provider_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("MOVIE_RAG_").lower()):
        MovieRagSettings()


def test_unvalidated_settings_never_fall_back_to_a_backend() -> None:
    # model_copy(update=...) skips validation: the switch itself refuses what it does not know.
    bogus = MovieRagSettings().model_copy(update={"backend": "hadoop"})
    with pytest.raises(ConfigurationError, match="MOVIE_RAG_BACKEND"):
        platform_for(bogus)


def test_each_backend_value_has_its_platform(tmp_path: Path) -> None:
    local = platform_for(MovieRagSettings(workdir=tmp_path))
    remote = platform_for(MovieRagSettings(backend="databricks", catalog="main", workdir=tmp_path))
    assert isinstance(local, LocalPlatform) and isinstance(local, Platform)
    assert isinstance(remote, DatabricksPlatform) and isinstance(remote, Platform)
    assert (local.name, local.is_local, remote.name, remote.is_local) == (
        "local",
        True,
        "databricks",
        False,
    )
    assert local.table_location("movies_info") == str(tmp_path / "tables" / "movies_info")
    assert remote.table_location("ratings", "bronze") == "main.bronze.ratings"
    assert local.collab_location() == tmp_path / "collab"
    assert remote.collab_location() == Path("/Volumes/main/silver/collab")
    custom = MovieRagSettings(backend="databricks", collab_path=str(tmp_path / "c"))
    assert platform_for(custom).collab_location() == tmp_path / "c"
    # settings.table_name is the platform's answer, not a second switch.
    assert MovieRagSettings(backend="databricks", catalog="main").table_name("x") == "main.silver.x"


def test_the_local_catalogue_read_hides_what_its_audience_must_not_see(tmp_path: Path) -> None:
    settings = MovieRagSettings(workdir=tmp_path)
    platform = platform_for(settings)
    row = {"movie_id": 1, "title": "Heat", "user_tags": ["typed by a user"], "document": "Heat."}
    target = Path(platform.table_location(settings.movies_info_table))
    target.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row], schema=MOVIES_INFO_SCHEMA), target / "p.parquet")
    assert "user_tags" not in platform.read_catalogue().column_names
    assert "document" not in platform.read_catalogue().column_names
    assert "document" in platform.read_catalogue(audience="retrieval").column_names


def _backend_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        # settings.backend, self.settings.backend, context.settings.backend, ...
        if isinstance(node, ast.Attribute) and node.attr == "backend":
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in {"settings", "s"}:
                lines.append(node.lineno)
    return lines


def test_platform_for_is_the_only_reader_of_settings_backend() -> None:
    readers = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if (lines := _backend_reads(path)) and path.name != "platform.py"
    }
    assert readers == {}
