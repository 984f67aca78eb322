"""Spaces entry point: the movie_rag chat, answering from a served movie_rag model.

Secrets, named as in the original app:

- ``API_END_POINT``: the served model's invocations URL, e.g.
  ``https://<workspace-host>/serving-endpoints/<endpoint-name>/invocations``;
- ``API_TOKEN``: its bearer token (a Databricks personal access or service-principal token).

Without ``API_END_POINT`` the chat answers in this process from the index in
``MOVIE_RAG_WORKDIR`` (that needs the ``local`` extra and a built workdir). Feedback goes to
``MOVIE_RAG_WORKDIR/feedback/`` and, with ``MOVIE_RAG_SQL_WAREHOUSE_ID`` set, to a Unity
Catalog table. See docs/ui.md.
"""

from __future__ import annotations

import os

from movie_rag.ui.app import launch_app
from movie_rag.ui.main import app_from_settings

demo = app_from_settings()

if __name__ == "__main__":
    # Inside a Space (SPACE_ID is set) the app must listen on every interface; elsewhere
    # stay on loopback unless told otherwise.
    default_host = "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"
    launch_app(
        demo,
        host=os.environ.get("GRADIO_SERVER_NAME", default_host),
        port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
