"""The chat UI: a Gradio app over the in-process chain or a served endpoint.

Importing this package does not import Gradio; :func:`~movie_rag.ui.app.create_app` does.

Example:
    >>> from movie_rag.ui import EndpointClient, RemoteBackend, create_app  # doctest: +SKIP
    >>> app = create_app(RemoteBackend(EndpointClient(url, token)))  # doctest: +SKIP
"""

from __future__ import annotations

from movie_rag.ui.app import DESCRIPTION, TITLE, create_app, launch_app
from movie_rag.ui.backends import AnswerError, Backend, LocalBackend, RemoteBackend
from movie_rag.ui.client import EndpointClient, EndpointError
from movie_rag.ui.feedback import FeedbackRecorder

__all__ = [
    "DESCRIPTION",
    "TITLE",
    "AnswerError",
    "Backend",
    "EndpointClient",
    "EndpointError",
    "FeedbackRecorder",
    "LocalBackend",
    "RemoteBackend",
    "create_app",
    "launch_app",
]
