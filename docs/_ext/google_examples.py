"""Griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

Napoleon and ruff's pydocstyle accept both spellings; griffe only knows ``Examples:`` and
renders ``Example:`` as an admonition of plain markdown, where ``>>>`` lines become block
quotes and ``[...]`` output looks like a broken link. Renaming the heading makes the
doctest lines render as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(?P<indent>\s*)Example:\s*$", re.MULTILINE)


class GoogleExamples(griffe.Extension):
    """Rename ``Example:`` section headings to ``Examples:`` before docstrings are parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the heading in the object's own docstring."""
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\g<indent>Examples:", obj.docstring.value)
