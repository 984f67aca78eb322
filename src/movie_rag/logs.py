"""Quiet logs for the command line: movie_rag's own lines on stderr, the rest in a file.

At the default level the terminal shows movie_rag's warnings and errors only. What Spark's
JVM, py4j, MLflow, transformers, Gradio and friends print (banners, INFO lines, progress
bars, native-library warnings) goes to ``<workdir>/logs/movie-rag.log`` (Python loggers)
and ``<workdir>/logs/spark.log`` (the JVM's own output), where it can be read after a
failure. ``-v`` shows all of it on stderr (movie_rag at INFO, ``-vv`` DEBUG);
``--quiet`` shows errors only.

Example:
    >>> import logging
    >>> from movie_rag.logs import configure_logging
    >>> log_file = configure_logging(0, workdir=None)
    >>> logging.getLogger("movie_rag").getEffectiveLevel() == logging.WARNING
    True
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["THIRD_PARTY_LOGGERS", "configure_logging", "jvm_output_redirected"]

#: Loggers of libraries whose output is chatter for a CLI user (kept in the log file).
THIRD_PARTY_LOGGERS = (
    "py4j",
    "pyspark",
    "mlflow",
    "alembic",
    "sqlalchemy",
    "huey",
    "transformers",
    "sentence_transformers",
    "huggingface_hub",
    "torch",
    "faiss",
    "urllib3",
    "httpx",
    "httpcore",
    "gradio",
    "uvicorn",
    "matplotlib",
    "PIL",
    "filelock",
    "asyncio",
    "langchain",
    "openai",
    "databricks",
    "py.warnings",
)

# Progress bars and banners the libraries print themselves, not through logging. Set
# before they are imported (they read these at import time); -v leaves them alone.
_QUIET_ENVIRONMENT = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bar as well
    "TRANSFORMERS_VERBOSITY": "error",
    "TQDM_DISABLE": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # "Downloading artifacts" bars
    "MLFLOW_CONFIGURE_LOGGING": "false",  # MLflow's own stderr handler; ours applies
}

# Where the JVM's stdout/stderr goes when Spark starts (None: the terminal).
_jvm_log: Path | None = None
# The log file handler of the last run: closed by the next one, whoever else (a library's
# own logging setup) dropped it from their loggers meanwhile.
_file_handler: logging.Handler | None = None


def configure_logging(
    verbosity: int = 0,
    *,
    workdir: str | Path | None = None,
    console: Console | None = None,
) -> Path | None:
    """Set up logging for a command-line run.

    Args:
        verbosity: ``-1`` quiet (errors only), ``0`` default (movie_rag warnings; libraries
            to the log file), ``1`` ``-v`` (movie_rag INFO and every library's output on
            stderr), ``2`` ``-vv`` (DEBUG).
        workdir: The workdir whose ``logs/`` receives the libraries' output (None: that
            output is dropped below ERROR).
        console: The stderr console for movie_rag's lines (default: a new one).

    Returns:
        The log file, or None when there is none.
    """
    global _jvm_log, _file_handler
    if _file_handler is not None:
        _file_handler.close()
        _file_handler = None
    from rich.console import Console
    from rich.logging import RichHandler

    console = console or Console(stderr=True)
    ours = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(
        max(-1, min(verbosity, 2)), logging.DEBUG
    )
    terminal = RichHandler(console=console, show_path=False, show_time=False)
    terminal.setFormatter(logging.Formatter("%(message)s"))
    terminal._movie_rag = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):
        # Only a previous run's handler (or a default stream handler) is replaced: a host's
        # own handlers (pytest's capture, an application's file) stay.
        if getattr(old, "_movie_rag", False) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(terminal)
    root.setLevel(logging.WARNING if verbosity < 2 else logging.DEBUG)
    logging.getLogger("movie_rag").setLevel(ours)
    logging.captureWarnings(True)

    log_file: Path | None = None
    file_handler: logging.Handler | None = None
    if workdir is not None:
        logs = Path(workdir).expanduser() / "logs"
        try:
            logs.mkdir(parents=True, exist_ok=True)
            log_file = logs / "movie-rag.log"
            file_handler = logging.FileHandler(log_file, encoding="utf-8", delay=True)
            file_handler._movie_rag = True  # type: ignore[attr-defined]
            _file_handler = file_handler
            file_handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
        except OSError:
            log_file = file_handler = None

    from movie_rag.privacy import install_log_redaction

    # Every record that reaches stderr or the log file, from any logger, is redacted.
    install_log_redaction([terminal, *([file_handler] if file_handler else [])])
    if verbosity >= 1:
        _jvm_log = None
        for name in THIRD_PARTY_LOGGERS:
            library = logging.getLogger(name)
            _set_handlers(library, [terminal] + ([file_handler] if file_handler else []))
            library.propagate = False
            library.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
        return log_file

    for key, value in _QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    _quiet_imported_libraries()
    errors_only = _CurrentStderrHandler()
    errors_only.setLevel(logging.ERROR)
    errors_only._movie_rag = True  # type: ignore[attr-defined]
    for name in THIRD_PARTY_LOGGERS:
        library = logging.getLogger(name)
        _set_handlers(library, [file_handler] if file_handler else [errors_only])
        library.propagate = False
        library.setLevel(logging.INFO if file_handler else logging.ERROR)
    # py4j logs every JVM call at INFO/DEBUG; keep its file lines to warnings.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    _jvm_log = (log_file.parent / "spark.log") if log_file is not None else Path(os.devnull)
    return log_file


class _CurrentStderrHandler(logging.StreamHandler):
    # Writes to whatever sys.stderr is at the time of the record, not the stream of the
    # moment it was made: libraries log from atexit hooks after a host (pytest, a notebook)
    # has swapped and closed its stderr.
    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _set_handlers(logger: logging.Logger, handlers: list[logging.Handler]) -> None:
    # A previous run's file handler must be closed, not dropped: an open log file left to the
    # garbage collector is a ResourceWarning (and a leaked descriptor in a long-lived host).
    for old in logger.handlers:
        if old not in handlers:
            _close_ours(old)
    logger.handlers = handlers


def _close_ours(handler: logging.Handler) -> None:
    if getattr(handler, "_movie_rag", False) and isinstance(handler, logging.FileHandler):
        handler.close()


def _quiet_imported_libraries() -> None:
    # Libraries imported before configure_logging read the environment too early.
    transformers_logging = sys.modules.get("transformers.utils.logging")
    if transformers_logging is not None:
        transformers_logging.disable_progress_bar()


@contextmanager
def jvm_output_redirected() -> Iterator[None]:
    """Send what a JVM started inside this block prints to the log file, not the terminal.

    The local Spark JVM inherits this process's stdout and stderr: its startup banner,
    log4j lines and native-library warnings (``netlib-blas: ... failed``) bypass Python
    logging. Inside this block file descriptors 1 and 2 point at ``<workdir>/logs/spark.log``
    (set by [`configure_logging`][movie_rag.logs.configure_logging]); the JVM keeps them,
    Python gets the terminal back when the block ends. Without a configured quiet run it
    does nothing.
    """
    target = _jvm_log
    if target is None:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(target, "ab") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
