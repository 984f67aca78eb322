"""The Databricks App's endpoint client: SDK auth per request, no static token."""

from __future__ import annotations

import pytest

pytest.importorskip("databricks.sdk")

from movie_rag.errors import ConfigurationError
from movie_rag.ui.databricks_app import WorkspaceEndpointClient, main


def test_the_app_asks_the_endpoint_with_the_workspace_identity(endpoint) -> None:
    from databricks.sdk import WorkspaceClient

    workspace = WorkspaceClient(host=endpoint.base_url, token=endpoint.token)
    client = WorkspaceEndpointClient(workspace, endpoint.endpoint_name)
    response = client.ask("a horror movie", k=2)
    assert len(response.recommendations) == 2
    assert client.token is None  # the bearer lived for that request only


def test_a_wrong_identity_is_refused_by_the_endpoint(endpoint) -> None:
    from databricks.sdk import WorkspaceClient

    from movie_rag.ui.client import EndpointError

    workspace = WorkspaceClient(host=endpoint.base_url, token="dapi-not-the-right-one")
    client = WorkspaceEndpointClient(workspace, endpoint.endpoint_name)
    with pytest.raises(EndpointError):
        client.ask("a horror movie")


def test_the_app_without_its_endpoint_resource_says_what_to_add(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVING_ENDPOINT", raising=False)
    with pytest.raises(ConfigurationError, match="app resource"):
        main()
