"""The workspace seam: credentials from the unified auth chain, the retry policy.

The Model Serving test gives the process exactly what Databricks Model Serving gives a
served model (databricks-sdk ``ModelServingAuthProvider``): ``IS_IN_DB_MODEL_SERVING_ENV``,
the host in ``DB_MODEL_SERVING_HOST_URL`` and the OAuth token in
``$SERVING_CREDENTIALS_DIR/model-dependencies-oauth-token`` — and no ``DATABRICKS_*``
variable, no ``MOVIE_RAG_DATABRICKS_*`` setting and no ``~/.databrickscfg``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sample_movies import movie_rows, to_table

from emulators.openai_chat import OpenAIChatEmulator
from emulators.vector_search import VectorSearchEmulator, stand_in_embedding
from movie_rag.index.databricks import DatabricksVectorIndex
from movie_rag.settings import MovieRagSettings
from movie_rag.workspace import (
    WorkspaceAuthError,
    is_transient,
    retrying,
    workspace_config,
)

SERVING_TOKEN = "serving-oauth-token-7f3a9c"


class _Embeddings:
    dimension = 64
    model_name = "hash-bow"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [stand_in_embedding(t, self.dimension) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return stand_in_embedding(text, self.dimension)


@pytest.fixture
def bare_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Databricks credential anywhere: no variables, settings or config file."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "MOVIE_RAG_", "DB_MODEL_SERVING", "IS_IN_D")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return tmp_path


def _model_serving(monkeypatch: pytest.MonkeyPatch, root: Path, host: str, token: str) -> None:
    credentials = root / "credentials"
    credentials.mkdir(exist_ok=True)
    (credentials / "model-dependencies-oauth-token").write_text(
        json.dumps({"OAUTH_TOKEN": [{"oauthTokenValue": token}]}), encoding="utf-8"
    )
    monkeypatch.setenv("IS_IN_DB_MODEL_SERVING_ENV", "true")
    monkeypatch.setenv("DB_MODEL_SERVING_HOST_URL", host)
    monkeypatch.setenv("SERVING_CREDENTIALS_DIR", str(credentials))


def test_no_credentials_is_one_clear_error(bare_environment: Path) -> None:
    with pytest.raises(WorkspaceAuthError, match="DATABRICKS_HOST with DATABRICKS_TOKEN"):
        workspace_config(MovieRagSettings())
    with pytest.raises(WorkspaceAuthError, match="both MOVIE_RAG_DATABRICKS_CLIENT_ID"):
        workspace_config(MovieRagSettings(databricks_client_id="abc"))


def test_the_index_works_in_model_serving_without_any_token_setting(
    bare_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with VectorSearchEmulator(token=SERVING_TOKEN) as workspace:
        _model_serving(monkeypatch, bare_environment, workspace.url, SERVING_TOKEN)
        config = workspace_config(MovieRagSettings())
        assert (config.auth_type, config.host) == ("model-serving", workspace.url)
        index = DatabricksVectorIndex.from_settings(
            MovieRagSettings(backend="databricks", catalog="main"),
            embeddings=_Embeddings(),
            poll_interval=0.01,
            timeout=5,
        )
        report = index.build(to_table(movie_rows()))
        assert report.added == len(movie_rows())
        hits = index.search("a heist that goes wrong", k=3)
        assert len(hits) == 3
        # Every request carried the mounted token: none was refused (401/403).
        assert workspace.requests
        assert not [r for r in workspace.requests if r.status in (401, 403)]


def test_a_wrong_serving_token_is_refused_with_a_clear_message(
    bare_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_rag.index.databricks import VectorSearchError

    with VectorSearchEmulator(token=SERVING_TOKEN) as workspace:
        _model_serving(monkeypatch, bare_environment, workspace.url, "stale-token")
        index = DatabricksVectorIndex.from_settings(
            MovieRagSettings(backend="databricks", catalog="main"),
            embeddings=_Embeddings(),
            poll_interval=0.01,
            timeout=5,
            max_retries=0,
        )
        with pytest.raises(VectorSearchError, match="refused the credentials"):
            index.build(to_table(movie_rows()))


def test_the_llm_in_model_serving_uses_the_mounted_token(
    bare_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_rag.chain.generators.llm import chat_model_from_settings

    with OpenAIChatEmulator(api_key=SERVING_TOKEN) as server:
        _model_serving(monkeypatch, bare_environment, server.url, SERVING_TOKEN)
        server.script("No picks today.")
        model = chat_model_from_settings(MovieRagSettings(llm_provider="databricks"))
        model.invoke("hello")
        assert server.chat_requests[-1].headers["authorization"] == f"Bearer {SERVING_TOKEN}"
        assert server.chat_requests[-1].path == ("/serving-endpoints/chat/completions")


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status_code = status


def test_transient_errors_and_the_retry_policy() -> None:
    assert is_transient(_Status(503)) and is_transient(_Status(429))
    assert not is_transient(_Status(403)) and not is_transient(_Status(404))
    assert is_transient(ConnectionError("reset"))
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _Status(503)
        return "ok"

    assert retrying(attempts=4, backoff=0.001)(flaky) == "ok"
    assert len(calls) == 3

    def refused() -> str:
        calls.append(1)
        raise _Status(403)

    calls.clear()
    with pytest.raises(_Status):
        retrying(attempts=4, backoff=0.001)(refused)
    assert len(calls) == 1
    # Out of tries: the last transient error comes out.
    calls.clear()
    with pytest.raises(_Status, match="503"):
        retrying(attempts=2, backoff=0.001)(flaky)
    assert len(calls) == 2
