"""Movie cards as chat-message HTML. Every value from a movie record or a model is escaped.

A card is one HTML block without blank lines, so the chat's Markdown renderer leaves it alone.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from movie_rag.chain.types import Recommendation

__all__ = ["CARD_CSS", "NOT_ON_PLATFORM", "answer_html", "card_html", "safe_url"]

NOT_ON_PLATFORM = "not on the platform"
_NUMBERED = re.compile(r"^\s*\d+\.\s")

CARD_CSS = """
.movie-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 14px; background: var(--background-fill-secondary); }
.movie-card .movie-title { font-weight: 600; font-size: 1.05em; }
.movie-card .movie-year { color: var(--body-text-color-subdued); font-weight: 400; }
.movie-card .movie-genres { margin: 4px 0; }
.movie-card .movie-genre { display: inline-block; margin: 0 4px 2px 0; padding: 0 8px;
  border-radius: 999px; font-size: 0.85em; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); }
.movie-card .movie-reason { margin: 4px 0; }
.movie-card .movie-badge { margin-left: 6px; padding: 0 8px; border-radius: 999px;
  font-size: 0.8em; background: #fde68a; color: #78350f; }
.movie-card .movie-link { font-size: 0.9em; }
.answer-error { color: var(--error-text-color, #b91c1c); }
"""


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link (never ``javascript:`` and the like)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def card_html(recommendation: Recommendation, position: int) -> str:
    """One recommendation as a card: title, year, genres, reason, IMDb link, badge.

    Args:
        recommendation: The movie.
        position: 1-based rank, shown before the title.

    Returns:
        An HTML fragment.
    """
    r = recommendation
    year = f' <span class="movie-year">({r.year})</span>' if r.year else ""
    badge = "" if r.in_catalog else f' <span class="movie-badge">{NOT_ON_PLATFORM}</span>'
    genres = "".join(f'<span class="movie-genre">{html.escape(g)}</span>' for g in r.genres)
    url = safe_url(r.url)
    link = (
        f'<a class="movie-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">IMDb page</a>'
        if url
        else ""
    )
    parts = [
        '<div class="movie-card">',
        f'<div class="movie-title">{position}. {html.escape(r.title)}{year}{badge}</div>',
        f'<div class="movie-genres">{genres}</div>' if genres else "",
        f'<div class="movie-reason">{html.escape(r.reason)}</div>' if r.reason else "",
        f"<div>{link}</div>" if link else "",
        "</div>",
    ]
    return "".join(parts)


def answer_html(text: str, *, without_list: bool = False) -> str:
    """The answer text, escaped, with its line breaks kept.

    Args:
        text: The answer.
        without_list: Leave out numbered lines ("1. Title (year) — ..."): the cards under
            the answer show those movies already.
    """
    lines = text.splitlines()
    if without_list:
        lines = [line for line in lines if not _NUMBERED.match(line)]
        while lines and not lines[-1].strip():
            lines.pop()
    return "<br>".join(html.escape(line, quote=False) for line in lines) or "&nbsp;"
