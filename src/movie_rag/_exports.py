"""Lazy package faces: a package's public names, imported from their modules on first use.

Every ``__init__.py`` of movie_rag lists its names once (a literal ``__all__``, the
``TYPE_CHECKING`` imports that type checkers and IDEs read, and a name → module map) and
calls :func:`lazy_exports`, so ``import movie_rag.<package>`` stays cheap and never pulls
pyspark, torch, MLflow, Gradio or the Databricks SDK before a name that needs them is used.

We keep this helper rather than depend on ``lazy-loader``: it is a dictionary lookup, the
explicit ``__all__`` and imports stay visible to ruff, mypy and the API docs (``lazy_loader``
computes ``__all__`` at run time or needs a ``.pyi`` stub kept in sync), and a missing name
fails with the package's own name.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` serving ``exports`` on first use.

    Args:
        package: The package's ``__name__``.
        exports: Public name → the module that defines it.
        public: The package's ``__all__``; it must list exactly the names of ``exports``.

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's top level.

    Raises:
        RuntimeError: ``__all__`` and ``exports`` disagree (caught at import, in tests).

    Example:
        >>> getattr_, dir_ = lazy_exports("pkg", {"sqrt": "math"}, ["sqrt"])
        >>> getattr_("sqrt")(4.0)
        2.0
    """
    if sorted(exports) != sorted(public):
        missing = sorted(set(public) ^ set(exports))
        raise RuntimeError(f"{package}: __all__ and its exports disagree on {missing}")

    def __getattr__(name: str) -> Any:
        home = exports.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        module = sys.modules.get(package)
        if module is not None:
            # Cache it: the next lookup is an ordinary attribute, not this hook.
            setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        module = sys.modules.get(package)
        names = set(vars(module)) if module is not None else set()
        return sorted(names | set(public))

    return __getattr__, __dir__
