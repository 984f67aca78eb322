"""No credential set in the environment reaches anything publishing and deploying write.

Marker values go into every variable a credential could come from; then the Databricks
flavour is published (logged, registered, aliased in the local registry, the endpoints it
calls checked on the workspace) and deployed (grants, secret scope, endpoint). Every file
the run wrote — artifacts, ``MLmodel``, ``requirements.txt``, the model card, the registry
and tracking database, the log file — is read as bytes and searched for each marker; so are
the endpoint config and every request body but the one put-secret call that stores the LLM
key in the secret scope.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

pytest.importorskip("databricks.sdk")

from emulators.serving import ServingEmulator
from movie_rag.publish import ModelPublisher
from movie_rag.settings import MovieRagSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "index"))
from sample_movies import movie_rows, to_table

MARKERS = {
    "MOVIE_RAG_DATABRICKS_TOKEN": "dapi" + "ab12" * 8,
    "DATABRICKS_TOKEN": "dapi" + "ab12" * 8,
    "MOVIE_RAG_LLM_API_KEY": "sk-marker-" + "7f3e" * 8,
    "OPENAI_API_KEY": "sk-marker-openai-" + "c0de" * 6,
    "HF_TOKEN": "hf_marker" + "Q9x2" * 8,
    "DATABRICKS_CLIENT_SECRET_MARKER": "dose" + "51ab" * 8,
}


def _files_with(root: Path, needle: bytes) -> list[str]:
    return [
        str(path.relative_to(root))
        for path in sorted(root.rglob("*"))
        if path.is_file() and needle in path.read_bytes()
    ]


def test_no_marker_token_reaches_an_artifact_a_log_the_registry_or_an_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace_token = MARKERS["MOVIE_RAG_DATABRICKS_TOKEN"]
    with ServingEmulator(token=workspace_token) as workspace:
        for name, value in MARKERS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("DATABRICKS_HOST", workspace.url)
        monkeypatch.setenv("MOVIE_RAG_DATABRICKS_HOST", workspace.url)
        workspace.register_model("main.movie_rag.movie_rag", "1")
        workspace.register_table("main.movie_rag.movies_info_index")
        workspace.register_table("main.movie_rag.collab", "VOLUME")
        root = tmp_path / "run"
        log_file = root / "logs" / "publish.log"
        log_file.parent.mkdir(parents=True)
        handler = logging.FileHandler(log_file, encoding="utf-8")
        handler.setLevel(logging.DEBUG)
        root_logger = logging.getLogger()
        previous = root_logger.level
        root_logger.addHandler(handler)
        root_logger.setLevel(logging.DEBUG)
        try:
            settings = MovieRagSettings(
                workdir=root / "workdir",
                backend="databricks",
                catalog="main",
                silver_schema="movie_rag",
                llm_provider="databricks",
                collab_enabled=False,
            )
            # The settings read the markers from the environment, as a user's would.
            assert settings.llm_api_key == SecretStr(MARKERS["MOVIE_RAG_LLM_API_KEY"])
            local = ModelPublisher(settings)
            serving = local.databricks_serving(poll_interval=0.01, timeout=30)
            version = local.publish(movies_info=to_table(movie_rows()), serving=serving)
            assert version.version == "1"
            uc = ModelPublisher(
                settings,
                registry="databricks-uc",
                tracking_uri=local.tracking_uri,
            )
            status = uc.deploy_databricks("movie-rag", version="1", serving=serving)
            assert status.ready
        finally:
            root_logger.removeHandler(handler)
            root_logger.setLevel(previous)
            handler.close()

        written = [p for p in root.rglob("*") if p.is_file()]
        assert any(p.name == "MLmodel" for p in written)
        assert any(p.name == "MODEL_CARD.md" for p in written)
        assert any(p.name == "mlflow.db" for p in written)
        assert log_file.stat().st_size > 0
        for name, value in MARKERS.items():
            assert _files_with(root, value.encode()) == [], name
        # Over the wire: the LLM key only in the one put-secret call; no other marker at all.
        llm_key = MARKERS["MOVIE_RAG_LLM_API_KEY"]
        carrying = [r.path for r in workspace.requests if llm_key in r.text]
        assert carrying == ["/api/2.0/secrets/put"]
        others = [v for k, v in MARKERS.items() if k != "MOVIE_RAG_LLM_API_KEY"]
        assert not [r.path for r in workspace.requests for v in others if v in r.text]
        served = workspace.active("movie-rag").served_entities[0]
        assert not [v for v in MARKERS.values() if v in str(served)]
