"""Movie cards as chat-message HTML. Every value from a movie record or a model is escaped.

One answer is one chat message (:func:`answer_message_html`): the answer text, then a
responsive grid of cards. A card shows the poster (or a neutral placeholder), the title and
year, the rating (``★ 8.2/10``), the genres, the reason, the IMDb link and its own thumbs.

The HTML holds no script, no ``<img>``, no ``<svg>`` and no event-handler attribute: a poster
is a CSS background over a placeholder (a poster that fails to load leaves the placeholder,
never a broken image), and the thumbs are plain buttons that the page's one script
(:data:`CARD_SCRIPT`) forwards to the server. A message is one HTML block without blank
lines, so the chat's Markdown renderer leaves it alone.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from movie_rag.chain.types import Recommendation

__all__ = [
    "CARD_CSS",
    "CARD_SCRIPT",
    "FONT_STACK",
    "NOT_ON_PLATFORM",
    "POSTER_BASE_ENV",
    "answer_html",
    "answer_message_html",
    "card_html",
    "poster_url",
    "rating_text",
    "safe_url",
]

NOT_ON_PLATFORM = "not on the platform"
#: Environment variable with the poster base URL (e.g. ``https://image.tmdb.org/t/p/w185``);
#: unset, cards show the placeholder and the page loads nothing from elsewhere.
POSTER_BASE_ENV = "MOVIE_RAG_POSTER_BASE_URL"
_NUMBERED = re.compile(r"^\s*\d+\.\s")
# TMDB image paths ("/abc.jpg"): the same rule as at ingest, checked again because a remote
# endpoint's answer is not trusted.
_POSTER_PATH = re.compile(r"^/[A-Za-z0-9_-]{1,100}\.(?:jpe?g|png|webp)$")
# A base URL goes inside CSS ``url('...')``: nothing that could close the string or the call.
_POSTER_BASE = re.compile(r"^(?:https?://[A-Za-z0-9.-]+(?::\d{1,5})?)?(?:/[A-Za-z0-9._~%/-]*)?$")

#: Fonts installed almost everywhere, each with every Latin glyph in every weight: the page
#: never falls back glyph by glyph (a bold capital "A" from another font) and loads no web font.
FONT_STACK = (
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Noto Sans",
    "Liberation Sans",
    "DejaVu Sans",
    "Arial",
    "sans-serif",
)

# Thumb icons as CSS masks (the card HTML itself holds no <svg>).
_THUMB = (
    "url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E"
    "%3Cpath d='M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 "
    "6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z'"
    '/%3E%3C/svg%3E")'
)
# A neutral film-frame placeholder, drawn under every poster.
_PLACEHOLDER = (
    "url(\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' "
    "fill='%239ca3af'%3E%3Cpath d='M4 3h16a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V4a1 "
    "1 0 0 1 1-1zm1 2v2h2V5H5zm12 0v2h2V5h-2zM5 9v2h2V9H5zm12 0v2h2V9h-2zM5 13v2h2v-2H5zm12 "
    "0v2h2v-2h-2zM5 17v2h2v-2H5zm12 0v2h2v-2h-2zM9 5v14h6V5H9z'/%3E%3C/svg%3E\")"
)

CARD_CSS = (
    """
#chat .message-row.bot-row:has(.movie-answer) { width: calc(100% - 60px); }
#chat .message.bot:has(.movie-answer) { width: 100%; }
.movie-answer { width: 100%; }
.movie-answer .answer-text { margin-bottom: 10px; }
.movie-grid { display: grid; gap: 10px;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 300px), 1fr)); }
.movie-card { display: flex; gap: 12px; align-items: flex-start; min-width: 0;
  border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px;
  background: var(--background-fill-secondary); }
.movie-card .movie-poster { flex: 0 0 72px; width: 72px; aspect-ratio: 2 / 3;
  border-radius: 6px; overflow: hidden;
  background: var(--background-fill-primary) """
    + _PLACEHOLDER
    + """ center / 45% no-repeat;
  border: 1px solid var(--border-color-primary); }
.movie-card .movie-poster-image { width: 100%; height: 100%; background-size: cover;
  background-position: center; background-repeat: no-repeat; }
.movie-card .movie-body { flex: 1 1 auto; min-width: 0; }
.movie-card .movie-title { font-weight: 600; font-size: 1.02em; line-height: 1.3; }
.movie-card .movie-year { color: var(--body-text-color-subdued); font-weight: 400; }
.movie-card .movie-meta { margin: 2px 0; font-size: 0.9em; }
.movie-card .movie-rating { font-weight: 600; color: #b45309; white-space: nowrap; }
.dark .movie-card .movie-rating { color: #fbbf24; }
.movie-card .movie-rating.unrated { color: var(--body-text-color-subdued); font-weight: 400; }
.movie-card .movie-genres { margin: 4px 0; }
.movie-card .movie-genre { display: inline-block; margin: 0 4px 2px 0; padding: 0 8px;
  border-radius: 999px; font-size: 0.8em; background: var(--background-fill-primary);
  border: 1px solid var(--border-color-primary); }
.movie-card .movie-reason { margin: 4px 0; font-size: 0.92em; overflow-wrap: anywhere; }
.movie-card .movie-badge { margin-left: 6px; padding: 0 8px; border-radius: 999px;
  font-size: 0.8em; background: #fde68a; color: #78350f; }
.movie-card .movie-footer { display: flex; align-items: center; gap: 6px; margin-top: 4px; }
.movie-card .movie-link { font-size: 0.9em; margin-right: auto; }
.movie-card .card-vote { width: 28px; height: 28px; padding: 0; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: 6px;
  background: var(--background-fill-primary); color: var(--body-text-color-subdued);
  display: inline-flex; align-items: center; justify-content: center; }
.movie-card .card-vote::before { content: ""; width: 15px; height: 15px;
  background: currentColor; -webkit-mask: """
    + _THUMB
    + """ center / contain no-repeat; mask: """
    + _THUMB
    + """ center / contain no-repeat; }
.movie-card .card-vote.vote-down::before { transform: rotate(180deg); }
.movie-card .card-vote:hover { color: var(--body-text-color); }
.movie-card .card-vote.pressed { color: var(--color-accent);
  border-color: var(--color-accent); }
.movie-card .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
.answer-error { color: var(--error-text-color, #b91c1c); }
.mr-hidden { display: none !important; }
/* The chat fills the window above the question box and scrolls inside (no fixed size). */
#chat { height: calc(100dvh - 300px) !important; min-height: 260px; flex-grow: 0 !important; }
@media (max-width: 767px) {
  #chat { height: calc(100dvh - 310px) !important; min-height: 220px; }
  #intro { padding-left: 30px; }
  #intro h2 { font-size: 1.3em; margin-bottom: 2px; }
  #intro p { font-size: 0.9em; line-height: 1.35; }
  #chat .message-row.bot-row:has(.movie-answer) { width: 100%; max-width: 100%;
    margin-left: 0; margin-right: 0; box-sizing: border-box; }
  .movie-card .movie-poster { flex-basis: 56px; width: 56px; }
}
"""
)

#: The page's one script: forwards a card's thumb click to the hidden ``#card-vote-send``
#: button (the click's details in ``window.movieRagVote``), showing the pressed state at once.
CARD_SCRIPT = """
<script>
(() => {
  if (window.movieRagCards) return;
  window.movieRagCards = true;
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("button.card-vote");
    if (!button) return;
    event.preventDefault();
    const card = button.closest(".movie-card");
    const pressed = button.classList.contains("pressed");
    card.querySelectorAll("button.card-vote").forEach((b) => b.classList.remove("pressed"));
    if (!pressed) button.classList.add("pressed");
    const number = (prefix) => {
      const name = [...button.classList].find((c) => c.startsWith(prefix));
      return name ? Number(name.slice(prefix.length)) : -1;
    };
    window.movieRagVote = JSON.stringify({
      turn: number("mr-turn-"), card: number("mr-card-"),
      vote: button.classList.contains("vote-up") ? 1 : -1, at: Date.now()});
    const send = document.querySelector("#card-vote-send");
    if (send) send.click();
  }, true);
})();
</script>
"""


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain http(s) link (never ``javascript:`` and the like)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def poster_url(poster_path: str | None, base_url: str | None = None) -> str | None:
    """The poster's URL: ``base_url`` + the TMDB ``poster_path``, or None.

    Args:
        poster_path: The record's path (``/abc.jpg``); anything else gives None.
        base_url: An http(s) base such as ``https://image.tmdb.org/t/p/w185``, or a path on
            the app's own server (``/posters``); default ``MOVIE_RAG_POSTER_BASE_URL``.
            Unset or unusable: None (the card shows its placeholder).

    Example:
        >>> poster_url("/abc.jpg", "http://127.0.0.1:9000/w185/")
        'http://127.0.0.1:9000/w185/abc.jpg'
        >>> poster_url("/abc.jpg", "") is None, poster_url("x') url(evil", "/p") is None
        (True, True)
    """
    if base_url is None:
        base_url = os.environ.get(POSTER_BASE_ENV, "")
    base_url = (base_url or "").strip().rstrip("/")
    if not base_url or not poster_path or not _POSTER_PATH.match(poster_path):
        return None
    if not _POSTER_BASE.match(base_url):
        return None
    return base_url + poster_path


def rating_text(rating: float | None) -> str:
    """``★ 8.2/10`` (one decimal), or ``no rating``."""
    if rating is None:
        return "no rating"
    return f"★ {rating:.1f}/10"


def card_html(
    recommendation: Recommendation,
    position: int,
    *,
    turn: int | None = None,
    vote: int = 0,
    poster_base_url: str | None = None,
) -> str:
    """One recommendation as a card: poster, title, year, rating, genres, reason, IMDb link.

    Args:
        recommendation: The movie.
        position: 1-based rank, shown before the title.
        turn: The conversation turn the card belongs to; given, the card carries its own
            thumbs (movies on the platform only).
        vote: The user's current vote on it (1, -1 or 0), shown as the pressed thumb.
        poster_base_url: See :func:`poster_url`.

    Returns:
        An HTML fragment.
    """
    r = recommendation
    title = html.escape(r.title)
    year = f' <span class="movie-year">({int(r.year)})</span>' if r.year else ""
    badge = "" if r.in_catalog else f' <span class="movie-badge">{NOT_ON_PLATFORM}</span>'
    genres = "".join(f'<span class="movie-genre">{html.escape(g)}</span>' for g in r.genres)
    url = safe_url(r.url)
    link = (
        f'<a class="movie-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener noreferrer">IMDb page</a>'
        if url
        else '<span class="movie-link"></span>'
    )
    poster = poster_url(r.poster_path, poster_base_url)
    image = (
        f'<div class="movie-poster-image" style="background-image: url(\'{poster}\')"></div>'
        if poster
        else ""
    )
    unrated = "" if r.rating is not None else " unrated"
    rating = (
        f'<span class="movie-rating{unrated}" title="Rating on a 0-10 scale">'
        f"{rating_text(r.rating)}</span>"
    )
    thumbs = ""
    if turn is not None and r.in_catalog and r.movie_id > 0:
        # The chat's sanitizer drops data-* and aria-* attributes: classes carry the turn,
        # the card and the pressed state to the page script.
        thumbs = "".join(
            f'<button type="button" class="card-vote vote-{name} mr-turn-{int(turn)} '
            f'mr-card-{position - 1}{" pressed" if vote == value else ""}" '
            f'title="{label} this movie"><span class="sr-only">{label}</span></button>'
            for value, name, label in ((1, "up", "Like"), (-1, "down", "Dislike"))
        )
    parts = [
        '<div class="movie-card">',
        f'<div class="movie-poster" role="img" title="Poster: {title}">{image}</div>',
        '<div class="movie-body">',
        f'<div class="movie-title">{position}. {title}{year}{badge}</div>',
        f'<div class="movie-meta">{rating}</div>',
        f'<div class="movie-genres">{genres}</div>' if genres else "",
        f'<div class="movie-reason">{html.escape(r.reason)}</div>' if r.reason else "",
        f'<div class="movie-footer">{link}{thumbs}</div>' if url or thumbs else "",
        "</div></div>",
    ]
    return "".join(parts)


def answer_message_html(
    text: str,
    recommendations: Sequence[Recommendation],
    *,
    turn: int | None = None,
    votes: Mapping[int, int] | None = None,
    poster_base_url: str | None = None,
) -> str:
    """One answer as one chat message: the answer text, then the grid of its cards.

    Args:
        text: The answer (its numbered list is left out when there are cards: they show it).
        recommendations: The movies, best first.
        turn: The conversation turn (gives the cards their thumbs).
        votes: The user's vote per card position (0-based).
        poster_base_url: See :func:`poster_url`.

    Returns:
        An HTML block without blank lines.
    """
    votes = votes or {}
    cards = "".join(
        card_html(
            r,
            position + 1,
            turn=turn,
            vote=votes.get(position, 0),
            poster_base_url=poster_base_url,
        )
        for position, r in enumerate(recommendations)
    )
    body = answer_html(text, without_list=bool(recommendations))
    grid = f'<div class="movie-grid">{cards}</div>' if cards else ""
    return f'<div class="movie-answer"><div class="answer-text">{body}</div>{grid}</div>'


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
