"""The chat UI as a Databricks App (``apps/chat/app.yaml`` runs :func:`main`).

The app calls the serving endpoint with the app's own identity: databricks-sdk unified auth
(``WorkspaceClient()``: the Apps runtime sets ``DATABRICKS_HOST``, ``DATABRICKS_CLIENT_ID``
and ``DATABRICKS_CLIENT_SECRET`` of the app's service principal), so no static token is
configured anywhere and OAuth tokens refresh. The endpoint and the SQL warehouse are app
resources; ``app.yaml`` passes their values as ``SERVING_ENDPOINT`` and
``DATABRICKS_WAREHOUSE_ID``. Feedback (thumbs) goes to the Unity Catalog feedback table
through that warehouse. Gradio listens on ``DATABRICKS_APP_PORT``.
"""

from __future__ import annotations

import os
from typing import Any

from movie_rag.errors import ConfigurationError
from movie_rag.ui.client import EndpointClient

__all__ = ["WorkspaceEndpointClient", "main", "run"]


class WorkspaceEndpointClient(EndpointClient):
    """An :class:`EndpointClient` authenticated by a ``WorkspaceClient`` on every request."""

    def __init__(self, workspace: Any, endpoint_name: str, *, timeout: float = 60.0) -> None:
        host = str(workspace.config.host).rstrip("/")
        super().__init__(f"{host}/serving-endpoints/{endpoint_name}/invocations", timeout=timeout)
        self._workspace = workspace

    def _post(self, body: Any) -> Any:
        from movie_rag.workspace import bearer_token

        # The SDK refreshes OAuth tokens; the token lives only for this request.
        self.token = bearer_token(self._workspace.config)
        try:
            return super()._post(body)
        finally:
            self.token = None


def main(*, block: bool = True) -> str:
    """Start the chat on ``DATABRICKS_APP_PORT`` against the ``SERVING_ENDPOINT`` endpoint.

    The app's credentials are tried before the server starts, so a wrong client secret is
    one error, not a chat whose every answer fails.

    Args:
        block: Serve until interrupted; False returns once the server is up.

    Returns:
        The local URL.

    Raises:
        ConfigurationError: ``SERVING_ENDPOINT`` is missing, or the workspace refused the
            app's credentials (:class:`~movie_rag.workspace.WorkspaceAuthError`).
    """
    from movie_rag.settings import MovieRagSettings
    from movie_rag.ui.app import create_app, launch_app
    from movie_rag.ui.backends import RemoteBackend
    from movie_rag.ui.feedback import FeedbackRecorder
    from movie_rag.workspace import check_credentials, workspace_client

    endpoint = os.environ.get("SERVING_ENDPOINT", "").strip()
    if not endpoint:
        raise ConfigurationError(
            "SERVING_ENDPOINT is not set: add the serving endpoint as an app resource "
            "(resources/app.yml) and pass it in app.yaml (valueFrom: serving-endpoint)"
        )
    port = int(os.environ.get("DATABRICKS_APP_PORT", "8000"))
    overrides: dict[str, Any] = {"backend": "databricks"}
    warehouse = os.environ.get("DATABRICKS_WAREHOUSE_ID", "").strip()
    if warehouse:
        overrides["sql_warehouse_id"] = warehouse
    settings = MovieRagSettings(**overrides)
    workspace = workspace_client(settings)
    check_credentials(workspace.config)
    client = WorkspaceEndpointClient(workspace, endpoint)
    recorder = FeedbackRecorder.from_settings(settings)
    app = create_app(RemoteBackend(client), feedback=recorder)
    # Databricks Apps route to the port on every interface.
    host = os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0")
    return launch_app(app, host=host, port=port, block=block)


def run() -> int:
    """Run the app as its command does (``python -m movie_rag.ui.databricks_app``).

    Returns:
        The exit code: 2 after a configuration or credential problem, printed as one line
        on stderr (never a traceback).
    """
    import sys

    from movie_rag.errors import MovieRagError

    try:
        main()
    except MovieRagError as exc:
        print(f"movie_rag app: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
