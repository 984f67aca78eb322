"""The Gradio chat: questions in, movie cards out, thumbs up/down kept as feedback.

Layout: a sidebar with filters (genres, year range, minimum rating) and the user's name
(closed at first on narrow screens, open on wide ones); the chat, filling the window, where
each answer is one message: its text and a responsive grid of movie cards, each card with its
own thumbs (the message's thumbs rate the answer); the question box; the original UI's four
examples.

Everything the page needs is served by the app itself: no analytics, no version check, no
share tunnel, no web fonts from elsewhere (the default theme's fonts ship with Gradio).
"""

from __future__ import annotations

import html
import json
import logging
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from movie_rag.catalog.genres import MOVIELENS_GENRES
from movie_rag.chain.types import Recommendation, RecommendationResponse
from movie_rag.feedback import FeedbackEvent
from movie_rag.privacy import redact_pii
from movie_rag.ui.backends import AnswerError, Backend
from movie_rag.ui.cards import (
    CARD_CSS,
    CARD_SCRIPT,
    FONT_STACK,
    POSTER_BASE_ENV,
    answer_message_html,
)
from movie_rag.ui.feedback import FeedbackRecorder

if TYPE_CHECKING:
    import gradio as gr

__all__ = [
    "DESCRIPTION",
    "TITLE",
    "create_app",
    "history_of",
    "launch_app",
    "sidebar_filters",
]

logger = logging.getLogger("movie_rag")

TITLE = "Movie Recommendation System"
DESCRIPTION = (
    "Ask for movie recommendations; the assistant answers from a catalogue of MovieLens and "
    "IMDb movies."
)
EMPTY_QUESTION = "Please type a question first, or pick one of the examples."
UNEXPECTED = "Something went wrong while answering. Please try again."
YEAR_MIN = 1900
YEAR_MAX = max(datetime.now().year, 2026)
ANONYMOUS = "anonymous"

# What a conversation is kept as (gr.State): one dict per question, JSON-friendly.
Turn = dict[str, Any]


def _offline_gradio() -> None:
    # Set before gradio is imported: it reads these at import and launch time.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def sidebar_filters(
    genres: Sequence[str] | None,
    year_from: float | None,
    year_to: float | None,
    min_rating: float | None,
) -> dict[str, Any]:
    """The sidebar's values as SearchFilters fields (only the ones that constrain anything).

    Args:
        genres: Genres ticked (any of them).
        year_from: Lower end of the year range (the slider's minimum means no bound).
        year_to: Upper end (the slider's maximum means no bound).
        min_rating: Minimum rating on the 0-10 scale (0 means no bound).

    Returns:
        A dict for the chain's ``filters`` input; empty when nothing is set.
    """
    filters: dict[str, Any] = {}
    if genres:
        filters["genres_any"] = list(genres)
    low = int(year_from) if year_from is not None else YEAR_MIN
    high = int(year_to) if year_to is not None else YEAR_MAX
    if low > high:
        low, high = high, low  # a reversed range still means "between these years"
    if low > YEAR_MIN:
        filters["year_min"] = low
    if high < YEAR_MAX:
        filters["year_max"] = high
    if min_rating:
        filters["min_rating"] = float(min_rating)
    return filters


def history_of(turns: Sequence[Turn]) -> list[dict[str, Any]]:
    """Earlier answered turns as the chain's ``history`` (failed turns are left out)."""
    history: list[dict[str, Any]] = []
    for turn in turns:
        if turn.get("error") or not turn.get("query"):
            continue
        history.append({"role": "user", "content": turn["query"]})
        history.append(
            {
                "role": "assistant",
                "content": turn.get("answer", ""),
                "recommendations": [r["movie_id"] for r in turn.get("recommendations", [])],
            }
        )
    return history


def chat_messages(
    turns: Sequence[Turn], *, poster_base_url: str | None = None
) -> tuple[list[dict[str, str]], list[tuple[str, int, int]]]:
    """The chatbot's messages for a conversation, and what each message is.

    Each answer is one message: its text and the grid of its movie cards (each card with
    its own thumbs; the message's thumbs rate the answer as a whole).

    Args:
        turns: The conversation.
        poster_base_url: Where posters load from (see :func:`~movie_rag.ui.cards.poster_url`).

    Returns:
        ``(messages, targets)``: ``targets[i]`` is ``(kind, turn, -1)`` for message ``i``,
        kind ``user``, ``answer`` or ``error``.
    """
    messages: list[dict[str, str]] = []
    targets: list[tuple[str, int, int]] = []
    for number, turn in enumerate(turns):
        if turn.get("query"):
            messages.append({"role": "user", "content": html.escape(turn["query"], quote=False)})
            targets.append(("user", number, -1))
        if turn.get("error"):
            error = f'<div class="answer-error">{html.escape(turn["error"])}</div>'
            messages.append({"role": "assistant", "content": error})
            targets.append(("error", number, -1))
            continue
        answer = turn.get("answer") or ""
        recommendations = [
            Recommendation.model_validate(data) for data in turn.get("recommendations", [])
        ]
        if not answer and not recommendations:
            content = "<em>Looking for movies…</em>"
        else:
            votes = {int(k): int(v) for k, v in (turn.get("card_votes") or {}).items()}
            content = answer_message_html(
                answer or "Looking for movies…",
                recommendations,
                turn=number,
                votes=votes,
                poster_base_url=poster_base_url,
            )
        messages.append({"role": "assistant", "content": content})
        targets.append(("answer", number, -1))
    return messages, targets


class _Handlers:
    """The app's event handlers (plain methods, so they are testable without a browser)."""

    def __init__(
        self,
        backend: Backend,
        recorder: FeedbackRecorder | None,
        k: int,
        poster_base_url: str | None = None,
    ) -> None:
        self.backend = backend
        self.recorder = recorder
        self.k = k
        self.poster_base_url = poster_base_url

    def messages(self, turns: Sequence[Turn]) -> list[dict[str, str]]:
        return chat_messages(turns, poster_base_url=self.poster_base_url)[0]

    def respond(
        self,
        question: str | None,
        turns: list[Turn] | None,
        user: str | None,
        genres: list[str] | None,
        year_from: float | None,
        year_to: float | None,
        min_rating: float | None,
    ) -> Iterator[tuple[list[dict[str, str]], list[Turn], str]]:
        """Answer a question, streaming cards; on failure keep the question in the box."""
        question = question or ""
        turns = list(turns or [])
        if not question.strip():
            turns.append({"query": "", "error": EMPTY_QUESTION})
            yield self.messages(turns), turns, question
            return
        history = history_of(turns)
        turn: Turn = {
            "query": question,
            "answer": "",
            "recommendations": [],
            "error": None,
            "card_votes": {},
        }
        turns.append(turn)
        yield self.messages(turns), turns, question
        try:
            for kind, data in self.backend.answer(
                question,
                history=history,
                filters=sidebar_filters(genres, year_from, year_to, min_rating),
                user_id=_user_id(user),
                k=self.k,
            ):
                if kind == "recommendation":
                    turn["recommendations"].append(data.model_dump(mode="json"))
                elif kind == "answer":
                    turn["answer"] = data
                elif kind == "done" and isinstance(data, RecommendationResponse):
                    turn["answer"] = data.answer
                    turn["recommendations"] = [
                        r.model_dump(mode="json") for r in data.recommendations
                    ]
                yield self.messages(turns), turns, question
        except AnswerError as exc:
            turn["error"] = str(exc)
            yield self.messages(turns), turns, question
            return
        except Exception:
            # The log keeps the question without personal data, like every other sink.
            logger.exception("answering %r failed", redact_pii(question))
            turn["error"] = UNEXPECTED
            yield self.messages(turns), turns, question
            return
        yield self.messages(turns), turns, ""

    def vote(self, turns: list[Turn] | None, user: str | None, index: Any, liked: Any) -> str:
        """Record a thumbs up/down on the answer in message ``index``; returns a status line."""
        # Clicking a chosen thumb again takes the vote back: recorded as a 0 vote, since
        # feedback is append-only.
        vote = 1 if liked is True else -1 if liked is False else 0
        turns = list(turns or [])
        targets = chat_messages(turns)[1]
        position = index[0] if isinstance(index, list | tuple) else index
        if not isinstance(position, int) or not 0 <= position < len(targets):
            return ""
        kind, number, _ = targets[position]
        if kind != "answer" or self.recorder is None:
            return "Only answers and movies can be rated." if self.recorder else ""
        return self._record(turns[number], user, vote, None)

    def vote_card(
        self, payload: str | None, turns: list[Turn] | None, user: str | None
    ) -> tuple[list[Turn], str]:
        """Record a thumb on one card; ``payload`` is the page's JSON ``{turn, card, vote}``.

        Clicking the chosen thumb again withdraws the vote (a 0 vote). Returns the
        conversation (with the card's vote, so redrawn cards keep it) and a status line.
        """
        turns = list(turns or [])
        try:
            data = json.loads(payload or "")
            number, card, clicked = int(data["turn"]), int(data["card"]), int(data["vote"])
        except (TypeError, ValueError, KeyError):
            return turns, ""
        if not 0 <= number < len(turns) or clicked not in (1, -1):
            return turns, ""
        turn = turns[number]
        recommendations = turn.get("recommendations") or []
        if not 0 <= card < len(recommendations):
            return turns, ""
        movie = recommendations[card]
        if movie["movie_id"] <= 0:
            return turns, "Movies that are not on the platform cannot be rated."
        if self.recorder is None:
            return turns, ""
        votes = dict(turn.get("card_votes") or {})
        vote = 0 if votes.get(str(card)) == clicked else clicked
        votes[str(card)] = vote
        turns[number] = {**turn, "card_votes": votes}
        return turns, self._record(turn, user, vote, movie)

    def _record(self, turn: Turn, user: str | None, vote: int, movie: dict[str, Any] | None) -> str:
        assert self.recorder is not None
        recommended = [r["movie_id"] for r in turn.get("recommendations", [])]
        event = FeedbackEvent(
            user_id=_user_id(user) or ANONYMOUS,
            # The event redacts too; the vote handler never hands a sink the raw question.
            query=redact_pii(turn["query"])[:4000],
            vote=vote,
            target="movie" if movie is not None else "answer",
            movie_id=movie["movie_id"] if movie is not None else None,
            title=movie["title"] if movie is not None else None,
            answer=(turn.get("answer") or "")[:20000],
            recommended_ids=[i for i in recommended if i > 0],
        )
        problems = self.recorder.record(event)
        thumb = {1: "thumbs up", -1: "thumbs down", 0: "withdrawn vote"}[vote]
        what = f"“{html.escape(movie['title'], quote=False)}”" if movie else "the answer"
        if len(problems) == len(self.recorder.sinks):
            return f"Your {thumb} on {what} could not be saved. Please try again later."
        if problems:
            return (
                f"Your {thumb} on {what} was saved here; the shared feedback table is unreachable."
            )
        if vote == 0:
            return f"Your vote on {what} was withdrawn."
        return f"Thanks! Your {thumb} on {what} was saved."


def _user_id(user: str | None) -> str | None:
    user = (user or "").strip()
    return user[:200] or None


def create_app(
    backend: Backend,
    *,
    feedback: FeedbackRecorder | None = None,
    k: int = 5,
    examples: Sequence[str] | None = None,
    poster_base_url: str | None = None,
) -> gr.Blocks:
    """Build the chat app (not yet launched).

    Args:
        backend: Where answers come from (:class:`~movie_rag.ui.backends.LocalBackend` or
            :class:`~movie_rag.ui.backends.RemoteBackend`).
        feedback: Where thumbs go (None: the buttons show, but votes are not kept).
        k: Recommendations per answer.
        examples: Example questions (default: the original UI's four, as ``movie-rag demo``
            asks them).
        poster_base_url: Base URL of the posters (e.g. ``https://image.tmdb.org/t/p/w185``
            or a relay on your own server); default ``MOVIE_RAG_POSTER_BASE_URL``. Unset,
            cards show a neutral placeholder and the page loads nothing from elsewhere.

    Returns:
        The Gradio Blocks; start it with :func:`launch_app`.
    """
    _offline_gradio()
    import gradio as gr

    if examples is None:
        from movie_rag.datasets import EXAMPLE_QUESTIONS

        examples = EXAMPLE_QUESTIONS
    if poster_base_url is None:
        poster_base_url = os.environ.get(POSTER_BASE_ENV, "")
    handlers = _Handlers(backend, feedback, k, poster_base_url)

    def on_like(turns: list[Turn], user: str, data: gr.LikeData) -> str:
        return handlers.vote(turns, user, data.index, data.liked)

    def user_from_url(request: gr.Request) -> str:
        params = dict(getattr(request, "query_params", {}) or {})
        return str(params.get("user") or params.get("user_id") or "")[:200]

    # Gradio finds the event-data parameters by their annotations; this module's annotations
    # are strings (postponed evaluation), so give it the classes themselves.
    on_like.__annotations__["data"] = gr.LikeData
    user_from_url.__annotations__["request"] = gr.Request

    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as app:
        turns = gr.State([])
        # Closed at first: on a phone it would cover the question box. Wide screens open it
        # once the page has loaded (SIDEBAR_SCRIPT).
        with gr.Sidebar(label="Filters", open=False, elem_id="filters"):
            gr.Markdown("### Filters")
            genres = gr.CheckboxGroup(
                list(MOVIELENS_GENRES), label="Genres (any of these)", elem_id="genres"
            )
            year_from = gr.Slider(
                YEAR_MIN, YEAR_MAX, value=YEAR_MIN, step=1, label="From year", elem_id="year-from"
            )
            year_to = gr.Slider(
                YEAR_MIN, YEAR_MAX, value=YEAR_MAX, step=1, label="To year", elem_id="year-to"
            )
            min_rating = gr.Slider(
                0, 10, value=0, step=0.5, label="Minimum rating (0-10)", elem_id="min-rating"
            )
            user = gr.Textbox(
                label="Your name",
                placeholder="kept with your thumbs up/down",
                elem_id="user",
                max_length=200,
            )
        gr.Markdown(f"## {TITLE}\n{DESCRIPTION}", elem_id="intro")
        chatbot = gr.Chatbot(
            label="Chat",
            elem_id="chat",
            # Fills what the window leaves (Blocks fill_height + scale), never a fixed size.
            height="100%",
            min_height=260,
            scale=1,
            group_consecutive_messages=False,
            latex_delimiters=[],
            feedback_options=("Like", "Dislike"),
            placeholder="Ask for a movie, or pick an example below.",
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                placeholder="What would you like to watch?",
                show_label=False,
                scale=8,
                elem_id="question",
                max_length=4000,
            )
            send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="send")
        status = gr.Markdown(elem_id="feedback-status")
        gr.Examples([[q] for q in examples], inputs=[question], label="Examples")
        with gr.Row():
            clear = gr.Button("New conversation", size="sm", elem_id="clear")
            gr.Markdown(f"<small>Answers from: {html.escape(backend.label)}</small>")
        # The card thumbs' channel: the page script clicks this button with the vote in
        # window.movieRagVote (CARD_SCRIPT); the box only carries it into the handler.
        card_vote = gr.Textbox(elem_id="card-vote", elem_classes=["mr-hidden"], show_label=False)
        card_vote_send = gr.Button(elem_id="card-vote-send", elem_classes=["mr-hidden"])

        gr.on(
            [question.submit, send.click],
            handlers.respond,
            inputs=[question, turns, user, genres, year_from, year_to, min_rating],
            outputs=[chatbot, turns, question],
            show_progress="hidden",
            concurrency_limit=getattr(backend, "concurrency", 1),
        )
        chatbot.like(on_like, inputs=[turns, user], outputs=[status])
        card_vote_send.click(
            handlers.vote_card,
            inputs=[card_vote, turns, user],
            outputs=[turns, status],
            js="(vote, turns, user) => [window.movieRagVote || '', turns, user]",
            show_progress="hidden",
        )
        clear.click(lambda: ([], [], ""), None, [chatbot, turns, status])
        app.load(user_from_url, None, user)
        app.load(None, None, None, js=SIDEBAR_SCRIPT)
    return app


#: Opens the filter sidebar on wide screens once the page has loaded (it starts closed, so a
#: phone shows the question box first).
SIDEBAR_SCRIPT = """
() => {
  if (window.innerWidth < 1024) return;
  const open = () => {
    const sidebar = document.querySelector(".sidebar");
    const toggle = sidebar && sidebar.querySelector(".toggle-button");
    if (!toggle) return false;
    if (!sidebar.classList.contains("open")) toggle.click();
    return true;
  };
  if (!open()) setTimeout(open, 300);
}
"""


def launch_app(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    block: bool = True,
    quiet: bool = True,
) -> str:
    """Serve the app (offline: no share link, no server-side rendering through Node).

    Args:
        app: From :func:`create_app`.
        host: Interface to bind (``0.0.0.0`` inside a container or a Space).
        port: Port; 0 picks a free one.
        block: Serve until interrupted; False returns once the server is up.
        quiet: Print nothing on stdout (the CLI prints its own line).

    Returns:
        The local URL.
    """
    import gradio as gr

    if port == 0:
        port = _free_port(host)
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=True,
        quiet=quiet,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        # System fonts only: every glyph from one font, nothing fetched from elsewhere.
        theme=gr.themes.Default(font=list(FONT_STACK)),
        css=CARD_CSS,
        head=CARD_SCRIPT,
    )
    if block:
        app.block_thread()
    return str(url)


def _free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host if host not in ("0.0.0.0", "") else "127.0.0.1", 0))
        return int(probe.getsockname()[1])
