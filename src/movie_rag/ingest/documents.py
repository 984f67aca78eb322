"""The text embedded for each movie: a template, a real token budget and a content hash."""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "MODEL_TOKEN_LIMITS",
    "DocumentTemplate",
    "TokenCounter",
    "content_hash",
    "token_limit",
]

#: Maximum sequence length (special tokens included) of the embedding models we ship for.
MODEL_TOKEN_LIMITS: dict[str, int] = {
    "all-MiniLM-L6-v2": 256,
    "sentence-transformers/all-MiniLM-L6-v2": 256,
    "databricks-bge-large-en": 512,
    "bge-large-en": 512,
    "BAAI/bge-large-en": 512,
    # gte-large-en-v1.5 (the managed-embedding default on Databricks): 8192 tokens, BERT
    # WordPiece vocabulary like the others.
    "databricks-gte-large-en": 8192,
    "Alibaba-NLP/gte-large-en-v1.5": 8192,
}


def token_limit(model: str, override: int | None = None) -> int:
    """The document token budget of an embedding model.

    Args:
        model: Embedding model or endpoint name.
        override: An explicit limit that wins.

    Raises:
        ValueError: Unknown model and no override.
    """
    if override is not None:
        return override
    try:
        return MODEL_TOKEN_LIMITS[model]
    except KeyError:
        raise ValueError(
            f"unknown embedding model {model!r}: set MOVIE_RAG_DOCUMENT_MAX_TOKENS "
            f"(known: {sorted(MODEL_TOKEN_LIMITS)})"
        ) from None


class TokenCounter:
    """Counts and trims text with the embedding models' real WordPiece tokenizer.

    The tokenizer file ships with the package (uncased BERT vocabulary, shared by
    all-MiniLM-L6-v2 and bge-large-en), so counting needs neither torch nor a download.
    Counts include the ``[CLS]`` and ``[SEP]`` tokens the model adds.

    Example:
        >>> counter = TokenCounter()
        >>> counter.count("The Matrix")
        4
    """

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        source = resources.files("movie_rag.ingest._tokenizer") / "bert-base-uncased-wordpiece.json"
        self._tokenizer = Tokenizer.from_str(source.read_text(encoding="utf-8"))
        # The shipped file pads/truncates to 128 for training; counting needs neither.
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, text: str) -> int:
        """Number of tokens the model sees for ``text``."""
        return len(self._tokenizer.encode(text).ids)

    def fit(self, text: str, max_tokens: int) -> tuple[str, int]:
        """:meth:`truncate` and :meth:`count` in one pass when the text already fits.

        Returns:
            The (possibly cut) text and its token count.
        """
        n_tokens = self.count(text)
        if n_tokens <= max_tokens:
            return text, n_tokens
        cut = self.truncate(text, max_tokens)
        return cut, self.count(cut)

    def truncate(self, text: str, max_tokens: int) -> str:
        """Cut ``text`` to at most ``max_tokens`` tokens, at a word boundary.

        Args:
            text: Any text.
            max_tokens: Budget including the two special tokens.

        Returns:
            ``text`` itself when it fits, else its longest prefix that fits, ending on a
            whole word.
        """
        encoding = self._tokenizer.encode(text)
        if len(encoding.ids) <= max_tokens:
            return text
        # offsets[0] and offsets[-1] belong to [CLS]/[SEP]: real tokens are 1..n-2, and the
        # first one dropped is number max_tokens - 1.
        first_dropped = max(max_tokens - 1, 1)
        end = encoding.offsets[first_dropped][0]
        if 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
            end = text.rfind(" ", 0, end)  # the cut falls inside a word: drop the whole word
        cut = text[: max(end, 0)]
        return cut.rstrip(" ,;:-")


@lru_cache(maxsize=1)
def default_counter() -> TokenCounter:
    """A process-wide TokenCounter (loading the vocabulary takes ~50 ms)."""
    return TokenCounter()


class DocumentTemplate(BaseModel):
    """How a movies_info row becomes the text that is embedded.

    Sections are rendered in order, one line each; empty sections are left out. Short,
    discriminating fields come first and the plot last, so when a document exceeds the model's
    token limit it is the tail of the plot that is cut.

    Attributes:
        sections: Section order; names from ``title``, ``genres``, ``directors``, ``cast``,
            ``keywords``, ``genome_tags``, ``overview``.
        max_cast: Top-billed cast members included.
        max_keywords: Keywords included.
        max_genome_tags: Genome tags included (most relevant first).
    """

    sections: list[str] = Field(
        default_factory=lambda: [
            "title",
            "genres",
            "directors",
            "cast",
            "keywords",
            "genome_tags",
            "overview",
        ]
    )
    max_cast: int = Field(5, ge=0)
    max_keywords: int = Field(12, ge=0)
    max_genome_tags: int = Field(10, ge=0)

    def render(self, row: dict[str, Any]) -> str:
        """Render one movies_info row (before its document and hash exist)."""
        lines = []
        for section in self.sections:
            line = getattr(self, f"_render_{section}")(row)
            if line:
                lines.append(line)
        return "\n".join(lines)

    def _render_title(self, row: dict[str, Any]) -> str:
        year = row.get("year")
        return f"{row['title']} ({year})" if year else str(row["title"])

    def _render_genres(self, row: dict[str, Any]) -> str:
        return _listing("Genres: ", row.get("genres"), None)

    def _render_directors(self, row: dict[str, Any]) -> str:
        return _listing("Directed by ", row.get("directors"), None)

    def _render_cast(self, row: dict[str, Any]) -> str:
        return _listing("Starring ", row.get("cast"), self.max_cast)

    def _render_keywords(self, row: dict[str, Any]) -> str:
        return _listing("Keywords: ", row.get("keywords"), self.max_keywords)

    def _render_genome_tags(self, row: dict[str, Any]) -> str:
        tags = [t["tag"] for t in row.get("genome_tags") or []]
        return _listing("Themes: ", tags, self.max_genome_tags)

    def _render_overview(self, row: dict[str, Any]) -> str:
        overview = row.get("overview")
        return f"Plot: {overview}" if overview else ""


def _listing(label: str, values: list[str] | None, cap: int | None) -> str:
    values = [v for v in values or [] if v]
    if cap is not None:
        values = values[:cap]
    return f"{label}{', '.join(values)}." if values else ""


def content_hash(row: dict[str, Any]) -> str:
    """A stable sha256 over every column of a movies_info row except the hash itself.

    Floats are rounded to 6 places and keys sorted, so the same content always gives the same
    hash, across processes and machines.
    """
    payload = {k: _stable(v) for k, v in sorted(row.items()) if k != "content_hash"}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _stable(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items())}
    return value
