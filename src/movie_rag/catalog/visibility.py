"""Who may see each ``movies_info`` column, declared once in the schema and read from here.

Every ``movies_info`` field carries a visibility in its schema metadata
(:data:`~movie_rag.catalog.schemas.MOVIES_INFO_SCHEMA`). The levels form a ladder; an
audience sees its own level and every level before it:

============  ===============================================================================
public        the user: answers, UI cards, the served model's catalogue
prompt        the generator: ``genome_tags`` (tag names are reworded into reasons; their
              relevance numbers are never shown)
retrieval     the index: ``document`` (the embedded text) and ``content_hash`` (what a sync
              compares); the chain's catalogue and the prompt do not need them
internal      nobody downstream of the table: ``user_tags`` (what MovieLens users typed) is
              never in an index, an answer, a served artifact or a log
============  ===============================================================================

Scrubs, index column lists and artifact exports derive from these sets instead of keeping
their own lists. Columns a table carries beyond the schema are not covered by the contract and
are left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

from movie_rag.catalog.schemas import MOVIES_INFO_SCHEMA, VISIBILITY_KEY

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMN_VISIBILITY",
    "INTERNAL_COLUMNS",
    "PROMPT_COLUMNS",
    "PUBLIC_COLUMNS",
    "RETRIEVAL_COLUMNS",
    "VISIBILITY_LEVELS",
    "Visibility",
    "columns_above",
    "restrict",
]

Visibility = Literal["public", "prompt", "retrieval", "internal"]

#: The levels, from the widest audience to none.
VISIBILITY_LEVELS: tuple[Visibility, ...] = get_args(Visibility)


def _visibilities() -> dict[str, Visibility]:
    levels: dict[str, Visibility] = {}
    for field in MOVIES_INFO_SCHEMA:
        raw = (field.metadata or {}).get(VISIBILITY_KEY, b"").decode()
        if raw not in VISIBILITY_LEVELS:
            # A schema edit without a visibility must fail at import, not leak at run time.
            raise RuntimeError(
                f"movies_info column {field.name!r} declares visibility {raw!r}; "
                f"expected one of {', '.join(VISIBILITY_LEVELS)}"
            )
        levels[field.name] = raw
    return levels


#: Each movies_info column's visibility, in schema order.
COLUMN_VISIBILITY: dict[str, Visibility] = _visibilities()


def _at(level: Visibility) -> frozenset[str]:
    return frozenset(name for name, seen in COLUMN_VISIBILITY.items() if seen == level)


#: Columns whose values may be shown to users.
PUBLIC_COLUMNS: frozenset[str] = _at("public")
#: Columns the generator may read but whose raw values are never shown.
PROMPT_COLUMNS: frozenset[str] = _at("prompt")
#: Columns only the index holds (the embedded text, the sync hash).
RETRIEVAL_COLUMNS: frozenset[str] = _at("retrieval")
#: Columns that never leave movies_info (not indexed, answered, shipped or logged).
INTERNAL_COLUMNS: frozenset[str] = _at("internal")


def columns_above(level: Visibility) -> frozenset[str]:
    """The movies_info columns an audience at ``level`` must not see.

    Args:
        level: The audience: ``"public"`` (a user), ``"prompt"`` (the generator and the
            chain's catalogue), ``"retrieval"`` (an index, a served artifact) or
            ``"internal"`` (the table itself).

    Returns:
        The columns declared at a later level of the ladder.

    Example:
        >>> sorted(columns_above("retrieval"))
        ['user_tags']
        >>> sorted(columns_above("prompt"))
        ['content_hash', 'document', 'user_tags']
    """
    if level not in VISIBILITY_LEVELS:
        raise ValueError(f"unknown visibility {level!r}; expected one of {VISIBILITY_LEVELS}")
    rank = VISIBILITY_LEVELS.index(level)
    return frozenset(
        name for name, seen in COLUMN_VISIBILITY.items() if VISIBILITY_LEVELS.index(seen) > rank
    )


def restrict(table: pa.Table, level: Visibility) -> pa.Table:
    """``table`` without the movies_info columns an audience at ``level`` must not see.

    Args:
        table: A movies_info table (or any subset or superset of its columns).
        level: The audience (see :func:`columns_above`).

    Returns:
        The table with those columns dropped; other columns are kept as they are.
    """
    hidden = columns_above(level)
    return table.drop_columns([name for name in table.column_names if name in hidden])
