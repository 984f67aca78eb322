"""The Vector Search emulator's privileges and slow syncs, met through DatabricksVectorIndex.

A served model or an app queries the index as its own identity, which needs USE CATALOG,
USE SCHEMA and SELECT on the index; without one of them the workspace answers 403 and the
library says which privilege on which object is missing. A triggered sync takes several
reads of the index to land, and ``sync`` returns only once it has.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from emulators.vector_search import VectorSearchEmulator
from movie_rag.index.databricks import DatabricksVectorIndex, VectorSearchError

_spec = importlib.util.spec_from_file_location(
    "sample_movies_fidelity", Path(__file__).parent / "index" / "sample_movies.py"
)
assert _spec is not None and _spec.loader is not None
sample_movies = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = sample_movies
_spec.loader.exec_module(sample_movies)

INDEX = "main.silver.movies_info_index"
TABLE = "main.silver.movies_info"
ENDPOINT = "movie_rag_vs"
SP_TOKEN = "dapi-service-principal-0123456789"
SP = "movie-rag-sp"


def _index(ws: VectorSearchEmulator, token: str) -> DatabricksVectorIndex:
    return DatabricksVectorIndex(
        INDEX,
        ENDPOINT,
        workspace_url=ws.url,
        token=token,
        poll_interval=0.01,
        timeout=5,
        max_retries=1,
        retry_backoff=0.01,
    )


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(sample_movies.to_table(rows), path / "part-00000.parquet")


@pytest.fixture
def workspace(tmp_path: Path) -> Any:
    with VectorSearchEmulator(sync_polls=3, principals={SP_TOKEN: SP}) as ws:
        _write(tmp_path / "movies_info", sample_movies.movie_rows())
        ws.register_table(TABLE, tmp_path / "movies_info")
        _index(ws, ws.token).build(TABLE)
        yield ws


def test_a_missing_grant_is_a_clear_403_naming_the_privilege(
    workspace: VectorSearchEmulator,
) -> None:
    served = _index(workspace, SP_TOKEN)
    missing = [
        ("USE CATALOG", "Catalog", "main"),
        ("USE SCHEMA", "Schema", "main.silver"),
        ("SELECT", "Index", INDEX),
    ]
    for privilege, kind, name in missing:
        with pytest.raises(VectorSearchError) as raised:
            served.search("a toy adventure", k=3)
        message = str(raised.value)
        assert f"User does not have {privilege} on {kind} '{name}'" in message
        assert "permissions" in message and "Traceback" not in message
        assert raised.value.status == 403
        workspace.grant(SP, kind, name, privilege)
    hits = served.search("a toy adventure", k=3)
    assert len(hits) == 3
    # Reading is all it got: writing to the index still needs MODIFY.
    with pytest.raises(VectorSearchError, match="User does not have MODIFY on Index"):
        served.sync(TABLE)


def test_the_owner_needs_no_grants_and_other_tokens_are_still_refused(
    workspace: VectorSearchEmulator,
) -> None:
    assert _index(workspace, workspace.token).search("toys", k=1)
    with pytest.raises(VectorSearchError, match="refused the credentials"):
        _index(workspace, "dapi-nobody").search("toys", k=1)


def test_a_triggered_sync_takes_several_polls_and_sync_waits_for_it(
    workspace: VectorSearchEmulator, tmp_path: Path
) -> None:
    rows = sample_movies.movie_rows()
    changed = rows[0]
    changed["overview"] = "Toys plot a daring escape from a yard sale."
    changed["document"] = sample_movies.document_for(changed)
    changed["content_hash"] = sample_movies.content_hash(changed)
    _write(tmp_path / "movies_info", rows)
    reads_before = len(workspace.calls("GET", rf"/indexes/{INDEX}$"))

    report = _index(workspace, workspace.token).sync(TABLE)

    assert report.updated == 1
    states_read = len(workspace.calls("GET", rf"/indexes/{INDEX}$")) - reads_before
    assert states_read >= 3  # it kept polling while the sync was running
    served = workspace.index_rows(INDEX)[changed["movie_id"]]
    assert served["overview"] == changed["overview"]
