"""The registered IMDB-like formats: detection, loading and field strengths in one place.

A format is one :class:`FormatSpec`. The built-in ones are the modules of
:mod:`movie_rag.ingest.imdb.formats` (each defines ``FORMAT``); a user's format is registered
with :func:`register_format`. Everything else reads this registry: the loader's format names,
:func:`detect_format`, and the defaults of
:class:`~movie_rag.ingest.movie_info.SourcePrecedence`, which rank each field group's
sources by the strengths the formats declare, so a new format cannot be forgotten there.
"""

from __future__ import annotations

import csv
import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from movie_rag.errors import InputFileError
from movie_rag.ingest.imdb.collector import Collected
from movie_rag.ingest.readers import open_text

__all__ = [
    "FIELD_GROUPS",
    "FormatSpec",
    "default_precedence",
    "detect_format",
    "get_format",
    "register_format",
    "registered_formats",
    "unregister_format",
]

#: The field groups a source can fill in movies_info (the fields of ``SourcePrecedence``):
#: ``people`` is directors and cast, ``billing`` a cast list in billing order (its names lead
#: the cast, the ``people`` source's credits follow), ``ratings`` the IMDb rating and its votes.
FIELD_GROUPS = ("overview", "people", "billing", "ratings", "keywords", "genres", "year")

#: ``detect`` scores: the header or first record's keys identify the format, or only the name.
BY_COLUMNS = 2
BY_FILE_NAME = 1

_DETECT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class FormatSpec:
    """One IMDB-like input format.

    Attributes:
        name: The ``format=`` value and the ``source`` column of its records (quarantine
            source ``imdb_<name>``).
        load: Reads a file (or directory) into a :class:`Collected`; usually
            :func:`~movie_rag.ingest.imdb.collector.load_csv` or ``load_json`` with a mapper.
        detect: ``(keys, file_name) → score``: :data:`BY_COLUMNS` when the header's columns
            (or the first JSON record's keys) identify the format, :data:`BY_FILE_NAME` when only
            the file name does, 0 when it is not this format.
        strengths: How much this source is trusted for each field group of
            :data:`FIELD_GROUPS` (1-100, higher wins). A group left out is never taken from
            this source.
        description: How the "expected ..." part of an unknown-format error names the file.
        order: Among formats scoring the same, lower is tried first (more specific columns).
        directory: Whether the format reads this directory (None: files only).
    """

    name: str
    load: Callable[[Path], Collected]
    detect: Callable[[frozenset[str], str], int]
    strengths: Mapping[str, int]
    description: str
    order: int = 100
    directory: Callable[[Path], bool] | None = field(default=None)

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name == "auto":
            raise ValueError(f"format name {self.name!r} must be an identifier other than 'auto'")
        unknown = sorted(set(self.strengths) - set(FIELD_GROUPS))
        if unknown:
            raise ValueError(
                f"format {self.name!r}: unknown field group(s) {unknown}; use {list(FIELD_GROUPS)}"
            )
        if not self.strengths:
            raise ValueError(
                f"format {self.name!r} declares no field strengths: its records would "
                f"contribute nothing to movies_info (give some of {list(FIELD_GROUPS)})"
            )
        bad = {g: s for g, s in self.strengths.items() if not 1 <= s <= 100}
        if bad:
            raise ValueError(f"format {self.name!r}: strengths must be 1-100, got {bad}")


_formats: dict[str, FormatSpec] = {}
_builtins_loaded = False


def _registry() -> dict[str, FormatSpec]:
    global _builtins_loaded
    if not _builtins_loaded:
        from movie_rag.ingest.imdb import formats

        specs = []
        for module in pkgutil.iter_modules(formats.__path__):
            if not module.name.startswith("_"):
                specs.append(importlib.import_module(f"{formats.__name__}.{module.name}").FORMAT)
        for spec in sorted(specs, key=lambda s: (s.order, s.name)):
            _formats.setdefault(spec.name, spec)
        _builtins_loaded = True
    return _formats


def register_format(spec: FormatSpec, *, replace: bool = False) -> FormatSpec:
    """Add a format: the loader accepts its name, detection tries it, precedence ranks it.

    Args:
        spec: The format.
        replace: Replace a registered format of the same name instead of failing.

    Returns:
        ``spec``, so a module can write ``FORMAT = register_format(FormatSpec(...))``.

    Raises:
        ValueError: A format of that name is already registered.

    Example:
        >>> from movie_rag.ingest.imdb import FormatSpec, load_csv, register_format
        >>> register_format(FormatSpec(  # doctest: +SKIP
        ...     name="letterboxd",
        ...     load=lambda path: load_csv("letterboxd", path, letterboxd_record,
        ...                                required=("Name", "Year", "Description")),
        ...     detect=lambda keys, name: 2 if {"Name", "Letterboxd URI"} <= keys else 0,
        ...     strengths={"overview": 55, "year": 50},
        ...     description="a Letterboxd export CSV",
        ... ))
    """
    formats = _registry()
    if spec.name in formats and not replace:
        raise ValueError(f"an IMDB-like format named {spec.name!r} is already registered")
    formats[spec.name] = spec
    return spec


def unregister_format(name: str) -> None:
    """Remove a registered format (a no-op when there is none of that name)."""
    _registry().pop(name, None)


def registered_formats() -> tuple[FormatSpec, ...]:
    """Every registered format: the built-in ones first, then in registration order."""
    return tuple(_registry().values())


def get_format(name: str) -> FormatSpec | None:
    """The registered format of that name, or None."""
    return _registry().get(name)


def default_precedence(group: str) -> list[str]:
    """The sources of one field group, strongest first (the ``SourcePrecedence`` default)."""
    ranked = [(spec.strengths[group], i, spec.name) for i, spec in enumerate(registered_formats())
              if group in spec.strengths]  # fmt: skip
    return [name for _, _, name in sorted(ranked, key=lambda r: (-r[0], r[1]))]


def expected_formats() -> str:
    """The registered formats as the "expected ..." part of an error message."""
    names = [spec.description for spec in registered_formats()]
    return ", ".join(names[:-1]) + (f" or {names[-1]}" if len(names) > 1 else "".join(names))


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name and its header or first record's keys.

    Raises:
        InputFileError: The file is missing or empty, or no registered format claims it (the
            message lists the keys found and the formats expected).
    """
    if path.is_dir():
        for spec in sorted(registered_formats(), key=lambda s: s.order):
            if spec.directory is not None and spec.directory(path):
                return spec.name
        raise InputFileError(path, "directory has no title.basics file", expected_formats())
    with open_text(path, expected_formats()) as handle:
        head = handle.read(_DETECT_BYTES)
    stripped = head.lstrip()
    if not stripped:
        raise InputFileError(path, "file is empty", expected_formats())
    json_like = stripped[0] in "[{"
    keys = frozenset(_first_record_keys(path, stripped) if json_like else _header_keys(stripped))
    scored = [(spec.detect(keys, path.name), spec) for spec in registered_formats()]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1].order))
    if not best:
        shown = sorted(keys)[:20]
        raise InputFileError(path, f"unknown IMDB file format (keys {shown})", expected_formats())
    return best[0][1].name


def _first_record_keys(path: Path, text: str) -> set[str]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    try:
        first, _ = decoder.raw_decode(text, start) if start >= 0 else (None, 0)
    except (ValueError, RecursionError):
        raise InputFileError(
            path, "first JSON record does not parse (or is over 4 MB)", expected_formats()
        ) from None
    return set(first) if isinstance(first, dict) else set()


def _header_keys(text: str) -> set[str]:
    first_line = text.splitlines()[0]
    delimiter = "\t" if "\t" in first_line else ","
    return {name.strip() for name in next(csv.reader([first_line], delimiter=delimiter))}
