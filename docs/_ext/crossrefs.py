"""Griffe extension: Sphinx roles in docstrings become mkdocstrings cross-references.

``:class:`~movie_rag.x.Y```, ``:meth:`build``` and friends are resolved in the scope of the
object that carries the docstring (its members, its parents, their imports) and rewritten
as optional autorefs: a link when the target is rendered somewhere in the site, plain code
otherwise. Names that do not resolve (the standard library, MLflow) stay inline code, so no
raw role markup reaches a page.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|exc|data|obj|const):`(?P<target>[^`]+)`")


def _resolve(obj: griffe.Object, name: str) -> str | None:
    if name.startswith("movie_rag."):
        return name
    head, _, rest = name.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            found = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            scope = scope.parent
            continue
        return f"{found}.{rest}" if rest else found
    return None


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        target = match["target"].strip()
        short = target.startswith("~")
        target = target.lstrip("~").removesuffix("()")
        shown = target.rsplit(".", 1)[-1] if short else target
        path = _resolve(obj, target)
        if path is None or not path.startswith("movie_rag"):
            return f"`{shown}`"
        return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx cross-reference roles once the whole package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk every object of the package and rewrite its docstring."""
        seen: set[int] = set()

        def walk(obj: griffe.Object) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
            for member in obj.members.values():
                if not member.is_alias:
                    walk(member)  # type: ignore[arg-type]

        walk(pkg)
