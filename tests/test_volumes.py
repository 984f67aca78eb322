"""The collab volume is created when missing, through the Unity Catalog API (emulated)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from emulators.sql_statements import SqlStatementsEmulator
from movie_rag.errors import ConfigurationError
from movie_rag.settings import MovieRagSettings
from movie_rag.volumes import ensure_volume, volume_of

PATH = "/Volumes/movie_rag/silver/collab/v-1/manifest.json"


def _settings(ws: SqlStatementsEmulator) -> MovieRagSettings:
    return MovieRagSettings(
        backend="databricks", databricks_host=ws.url, databricks_token=SecretStr(ws.token)
    )


def test_volume_of_reads_the_three_names_of_a_volume_path() -> None:
    assert volume_of(PATH) == ("movie_rag", "silver", "collab")
    assert volume_of("/Volumes/movie_rag/silver") is None
    assert volume_of("/tmp/collab") is None


def test_a_missing_volume_is_created_once(tmp_path: Path) -> None:
    root = tmp_path / "Volumes"
    with SqlStatementsEmulator(schemas=["movie_rag.silver"], volumes_root=root) as ws:
        assert ensure_volume(_settings(ws), PATH, local_root=root) is True
        assert (root / "movie_rag" / "silver" / "collab").is_dir()
        assert ws.volumes["movie_rag.silver.collab"]["volume_type"] == "MANAGED"
        assert ensure_volume(_settings(ws), PATH, local_root=root) is False
        assert len(ws.calls("POST", "/unity-catalog/volumes")) == 1
        assert ensure_volume(_settings(ws), "/tmp/elsewhere", local_root=root) is False


def test_a_volume_that_cannot_be_created_is_one_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "Volumes"
    with (
        SqlStatementsEmulator(
            schemas=["movie_rag.silver"], volumes_root=root, can_create_volumes=False
        ) as ws,
        pytest.raises(ConfigurationError) as raised,
    ):
        ensure_volume(_settings(ws), PATH, local_root=root)
    message = str(raised.value)
    assert "movie_rag.silver.collab does not exist and could not be created" in message
    assert "User does not have CREATE VOLUME on Schema 'movie_rag.silver'" in message
    assert "MOVIE_RAG_COLLAB_PATH" in message
