"""Helpers shared by the publishing tests (secrets to hunt for, settings, HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from movie_rag.settings import MovieRagSettings

#: Secrets that must never reach a logged artifact, the model config or the tracking store.
LLM_KEY = "sk-movierag-" + "9d41c7" * 6
WORKSPACE_TOKEN = "dapi" + "b7e2" * 8


def publisher_settings(workdir: Path, **overrides: Any) -> MovieRagSettings:
    """Settings carrying both secrets, with ``overrides`` applied."""
    values: dict[str, Any] = {
        "workdir": workdir,
        "llm_api_key": SecretStr(LLM_KEY),
        "databricks_token": SecretStr(WORKSPACE_TOKEN),
    }
    values.update(overrides)
    return MovieRagSettings(**values)


def post(url: str, body: Any, *, raw: bytes | None = None) -> tuple[int, Any]:
    """POST JSON to ``url``; returns (status, decoded JSON body)."""
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
