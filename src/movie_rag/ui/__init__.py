"""The chat UI: a Gradio app over the in-process chain or a served endpoint.

Importing this package does not import Gradio; :func:`~movie_rag.ui.app.create_app` does.

Example:
    >>> from movie_rag.ui import EndpointClient, RemoteBackend, create_app  # doctest: +SKIP
    >>> app = create_app(RemoteBackend(EndpointClient(url, token)))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS: dict[str, str] = {
    "DESCRIPTION": "movie_rag.ui.app",
    "TITLE": "movie_rag.ui.app",
    "create_app": "movie_rag.ui.app",
    "launch_app": "movie_rag.ui.app",
    "AnswerError": "movie_rag.ui.backends",
    "Backend": "movie_rag.ui.backends",
    "LocalBackend": "movie_rag.ui.backends",
    "RemoteBackend": "movie_rag.ui.backends",
    "EndpointClient": "movie_rag.ui.client",
    "EndpointError": "movie_rag.ui.client",
    "FeedbackRecorder": "movie_rag.ui.feedback",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
