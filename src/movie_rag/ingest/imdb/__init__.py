"""IMDB-like movie metadata: the loader and the registry of its formats.

Each format is one :class:`FormatSpec` (detection, loading, field strengths). The built-in
formats are the modules of :mod:`movie_rag.ingest.imdb.formats`; :func:`register_format` adds
one from any module, and it is then detected, loaded and ranked in ``SourcePrecedence`` like
the built-in ones (see docs/architecture.md, "How to add an IMDb format").
"""

from movie_rag.ingest.imdb.collector import Collected, NulledValue, load_csv, load_json
from movie_rag.ingest.imdb.loader import IMDBFormat, IMDBLoader, IMDBSource
from movie_rag.ingest.imdb.registry import (
    FIELD_GROUPS,
    FormatSpec,
    default_precedence,
    register_format,
    registered_formats,
    unregister_format,
)
from movie_rag.ingest.imdb.values import Notes, RowError

__all__ = [
    "FIELD_GROUPS",
    "Collected",
    "FormatSpec",
    "IMDBFormat",
    "IMDBLoader",
    "IMDBSource",
    "Notes",
    "NulledValue",
    "RowError",
    "default_precedence",
    "load_csv",
    "load_json",
    "register_format",
    "registered_formats",
    "unregister_format",
]
