"""Assemble the chat app from settings: which backend, which feedback sinks.

Shared by ``movie-rag ui`` and the Spaces entry point (``app.py`` at the repository root).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from movie_rag.settings import MovieRagSettings
from movie_rag.ui.backends import Backend, LocalBackend, RemoteBackend
from movie_rag.ui.client import EndpointClient
from movie_rag.ui.feedback import FeedbackRecorder

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["ENDPOINT_ENV", "TOKEN_ENV", "app_from_settings", "backend_from_settings"]

#: The original app's secrets: the endpoint URL and its bearer token.
ENDPOINT_ENV = "API_END_POINT"
TOKEN_ENV = "API_TOKEN"


def backend_from_settings(
    settings: MovieRagSettings,
    endpoint: str | None = None,
    token: str | None = None,
    *,
    timeout: float = 60.0,
) -> Backend:
    """The remote backend when an endpoint is given, else the chain from the workdir.

    Args:
        settings: Settings (the workdir must hold a built index for the in-process mode).
        endpoint: The served model's invocations URL; None answers in this process.
        token: Its bearer token.
        timeout: Seconds to wait for the endpoint.

    Returns:
        The backend.
    """
    if endpoint and endpoint.strip():
        return RemoteBackend(EndpointClient(endpoint, token, timeout=timeout))
    from movie_rag.chain.recommender import RecommenderChain

    return LocalBackend(RecommenderChain.from_settings(settings))


def app_from_settings(
    settings: MovieRagSettings | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    *,
    k: int = 5,
    timeout: float = 60.0,
) -> gr.Blocks:
    """The chat app, answering from ``endpoint`` (or in-process), feedback into the workdir.

    Args:
        settings: Settings; default from the environment.
        endpoint: Invocations URL; default ``API_END_POINT`` (unset: in-process chain).
        token: Bearer token; default ``API_TOKEN``.
        k: Recommendations per answer.
        timeout: Seconds to wait for the endpoint.

    Returns:
        The app, ready for :func:`~movie_rag.ui.app.launch_app`.
    """
    from movie_rag.ui.app import create_app

    settings = settings or MovieRagSettings()
    if endpoint is None:
        endpoint = os.environ.get(ENDPOINT_ENV)
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    backend = backend_from_settings(settings, endpoint, token, timeout=timeout)
    return create_app(backend, feedback=FeedbackRecorder.from_settings(settings), k=k)
