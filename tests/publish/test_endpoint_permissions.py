"""Querying the served endpoint with the workspace's own identity, and without CAN QUERY."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from emulators.model_invocations import ModelInvocationsEmulator
from movie_rag.settings import MovieRagSettings
from movie_rag.ui.client import EndpointClient, EndpointError

APP_TOKEN = "app-service-principal-oauth-token"
APP = "0b7c5e1a-2d3f-4a6b-8c9d-0e1f2a3b4c5d"


@pytest.fixture
def endpoint() -> Iterator[ModelInvocationsEmulator]:
    # No chain: the requests of these tests are refused before the model answers.
    chain: Any = None
    with ModelInvocationsEmulator(chain) as served:
        served.add_identity(APP_TOKEN, APP)
        yield served


def test_a_missing_can_query_is_one_clear_line(endpoint: ModelInvocationsEmulator) -> None:
    endpoint.restrict_query("someone-else@example.com")
    settings = MovieRagSettings(
        databricks_host=endpoint.base_url, databricks_token=APP_TOKEN, backend="databricks"
    )
    client = EndpointClient.from_workspace(endpoint.endpoint_name, settings)
    assert client.url == endpoint.url

    with pytest.raises(EndpointError) as caught:
        client.ask("a heist film", k=3)
    message = str(caught.value)
    assert caught.value.kind == "auth" and caught.value.status == 403
    assert "CAN QUERY" in message and endpoint.endpoint_name in message
    assert "\n" not in message and APP_TOKEN not in message
    # The workspace identity's bearer went with the request, fresh from the auth chain.
    assert endpoint.requests[-1]["headers"]["Authorization"] == f"Bearer {APP_TOKEN}"


def test_a_wrong_token_is_still_told_as_a_refused_token(
    endpoint: ModelInvocationsEmulator,
) -> None:
    client = EndpointClient(endpoint.url, "dapi-not-known")
    with pytest.raises(EndpointError, match=r"HTTP 403.*API_TOKEN"):
        client.ask("a heist film", k=3)
