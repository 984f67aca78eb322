"""The ``movie-rag`` command line.

Every command takes ``--workdir``. With ``--json`` stdout carries only JSON; logs, progress
and timings always go to stderr. Libraries' chatter (Spark's JVM, MLflow, transformers) goes
to ``<workdir>/logs/`` unless ``-v``; ``--quiet`` leaves errors only; no traceback reaches
the terminal unless ``--debug``.
"""

from __future__ import annotations

import os

# Each command module adds its command to ``app`` when imported; the order here is the
# order of ``movie-rag --help``.
# isort: off
from movie_rag.cli import build  # noqa: F401
from movie_rag.cli import search  # noqa: F401
from movie_rag.cli import recommend  # noqa: F401
from movie_rag.cli import demo  # noqa: F401
from movie_rag.cli import publish  # noqa: F401
from movie_rag.cli import serve  # noqa: F401
from movie_rag.cli import evaluate  # noqa: F401
from movie_rag.cli import ui  # noqa: F401

# The deployment job's commands (ingest, collab, index, gate, deploy).
from movie_rag.cli import platform  # noqa: F401

# isort: on
from movie_rag.cli._app import _settings, _start, app, err, out  # noqa: F401
from movie_rag.cli._errors import _reported_errors, install_hint  # noqa: F401
from movie_rag.datasets import EXAMPLE_QUESTIONS

__all__ = ["EXAMPLE_QUESTIONS", "app", "err", "install_hint", "main", "out"]


def main() -> None:
    """Entry point of the ``movie-rag`` console script."""
    # Nothing may be fetched from a model hub at run time: the model ships in a package.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app()
