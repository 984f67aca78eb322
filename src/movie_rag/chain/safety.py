"""Guards on what goes in and what comes out of the recommender.

In: :func:`redact_pii` (defined in :mod:`movie_rag.privacy`, the one definition every log
and store uses) replaces personal data in a query (emails, phone numbers, payment cards,
IBANs, US social security numbers, IP addresses, street addresses) with placeholders before
the query reaches an LLM, a log or an inference table. :func:`is_off_topic` spots requests
about other subjects, which get :data:`POLITE_REFUSAL`.

Out: :func:`scrub_internal` removes what must never be shown to users: genome relevance
scores, internal ``movies_info`` fields (``user_tags``, ``genome_tags``, ``content_hash``,
``document``), raw movie ids, JSON dumps of records and echoes of the system prompt. It
first normalises the text (:func:`normalise_text`: NFKC, zero-width and other invisible
characters removed, Cyrillic/Greek look-alike letters inside Latin words mapped to Latin)
so that ``user\u200b_tags`` or ``usеr_tags`` (Cyrillic е) are found too, and it removes
secrets (:func:`redact_secrets`: any configured key or token value, and strings shaped like
API keys), HTML (tags dropped, a stray ``<`` neutralised: the JSON API carries no markup),
markdown images (a viewer's browser would fetch them) and links to anywhere but IMDb and
TMDB (their text stays).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

from movie_rag.catalog.visibility import columns_above
from movie_rag.chain.text import squash as _squash
from movie_rag.privacy import redact_pii
from movie_rag.secret_redaction import (
    redact_secrets,
    register_secret,
    register_settings_secrets,
)

__all__ = [
    "INTERNAL_FIELDS",
    "POLITE_REFUSAL",
    "SYSTEM_PROMPT_MARKERS",
    "is_off_topic",
    "markers_from_prompt",
    "mentions_movies",
    "normalise_text",
    "redact_pii",
    "redact_secrets",
    "register_secret",
    "register_settings_secrets",
    "scrub_internal",
]

logger = logging.getLogger("movie_rag")

POLITE_REFUSAL = (
    "Sorry, I can only help with movies. Ask me for recommendations by genre, decade, mood, "
    "actor or director, or name a film you liked, for example: "
    '"movies like The Matrix from the 90s".'
)

#: movies_info columns that are internal: never shown to users, whatever a generator writes.
INTERNAL_FIELDS: tuple[str, ...] = tuple(sorted(columns_above("public")))

#: Phrases that only occur in a system prompt; a sentence carrying one is an echo and is
#: removed. The prompt module extends this with its own prompt's sentences
#: (``SYSTEM_PROMPT_MARKERS.extend(markers_from_prompt(prompt))``).
SYSTEM_PROMPT_MARKERS: list[str] = [
    "You are a movie recommendation assistant",
    "You are a helpful movie",
    "You are MovieBot",
    "system prompt",
    "my instructions are",
    "my instructions say",
    "Use only the movies in the context",
    "Only recommend movies from the context",
    "Answer only from the context",
    "Never mention user_tags",
    "<|im_start|>system",
    "<<SYS>>",
]

# ---------------------------------------------------------------- topic

_MOVIE_WORDS = re.compile(
    r"\b(?:movies?|films?|flicks?|cinema|cinematic|watch(?:ing|ed)?|actors?|actress(?:es)?|"
    r"directors?|directed|starring|cast|imdb|netflix|blockbusters?|sequels?|prequels?|"
    r"trailers?|box office|tv shows?|series|screenplay|oscars?|hollywood|bollywood|"
    r"documentar(?:y|ies)|cartoons?|anime|rom[- ]?coms?|sci[- ]?fi|horror|comed(?:y|ies)|"
    r"thrillers?|westerns?|musicals?|performances?|soundtracks?|plot|scenes?|acting|"
    r"cinematography|plot twists?)\b",
    re.IGNORECASE,
)
_OTHER_SUBJECTS = re.compile(
    r"\b(?:weather|forecast|temperature|rain(?:ing)?|poems?|poetry|haikus?|essays?|recipes?|"
    r"cook(?:ing)?|bak(?:e|ing)|pasta|pizza dough|code|coding|python|javascript|programs?|"
    r"programming|math|equations?|homework|stocks?|bitcoin|crypto|invest(?:ing|ment)?|news|"
    r"politics?|elections?|translate|translation|capital of|diet|workout|symptoms?|medical|"
    r"lawyer|legal advice|tax(?:es)?|flights?|hotels?|restaurants?|jokes?|lyrics|"
    r"password|email address)\b",
    re.IGNORECASE,
)


def mentions_movies(text: str) -> bool:
    """Whether the text talks about films at all (movie words, genre names, watching).

    Args:
        text: A query.

    Returns:
        True when a movie word occurs.
    """
    return _MOVIE_WORDS.search(text) is not None


def is_off_topic(text: str) -> bool:
    """Whether a request is about another subject and says nothing about movies.

    This is the catalogue-free check; :class:`~movie_rag.chain.query.QueryParser` also
    counts people, titles, genres and moods it recognises as being about movies.

    Args:
        text: A query.

    Returns:
        True for requests such as "what's the weather" or "write me a poem".

    Example:
        >>> is_off_topic("How do I cook pasta?")
        True
        >>> is_off_topic("a movie about cooking pasta")
        False
    """
    return _OTHER_SUBJECTS.search(text) is not None and not mentions_movies(text)


# ---------------------------------------------------------------- normalising (out)

# Latin look-alikes among Cyrillic and Greek letters. Mapped only inside words that also
# hold Latin letters: a Russian or Greek title stays as written.
_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁԛԝӏɡвкмнтАВЕКМНОРСТХІЈЅαοριτυχνκεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwlgbkmhtABEKMHOPCTXIJSaopituxvkeABEZHIKMNOPTYX",
)
_CONFUSABLE_CHARS = frozenset("аеорсухіјѕԁԛԝӏɡвкмнтАВЕКМНОРСТХІЈЅαοριτυχνκεΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")
_LATIN = re.compile(r"[A-Za-z]")
_WORD_RUN = re.compile(r"\w+", re.UNICODE)


def _invisible(ch: str) -> bool:
    # Format characters (zero-width space/joiners, BOM, bidi controls, soft hyphen) and
    # the variation selectors: they render as nothing and only serve to split words.
    return unicodedata.category(ch) == "Cf" or "\ufe00" <= ch <= "\ufe0f"


def normalise_text(text: str) -> str:
    """The text as a reader sees it, for looking for what must not be shown.

    NFKC (full-width and mathematical letters become plain ones, ligatures split), then
    invisible characters removed (zero-width spaces and joiners, BOM, bidi controls, soft
    hyphens, variation selectors), then Cyrillic and Greek look-alikes mapped to Latin in
    words that mix them with Latin letters (``usеr_tags`` with a Cyrillic ``е``).

    Args:
        text: Text from a generator.

    Returns:
        The normalised text (unchanged when it was plain).
    """
    text = unicodedata.normalize("NFKC", text)
    if any(_invisible(ch) for ch in text):
        text = "".join(ch for ch in text if not _invisible(ch))

    def latinise(match: re.Match[str]) -> str:
        word = match.group(0)
        if _LATIN.search(word) and any(ch in _CONFUSABLE_CHARS for ch in word):
            return word.translate(_CONFUSABLES)
        return word

    return _WORD_RUN.sub(latinise, text)


# ---------------------------------------------------------------- markup (out)

_ACTIVE_BLOCK = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|math|template|noscript|textarea|title)\b"
    r"[^>]*>.*?(?:<\s*/\s*\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_HTML_TAG = re.compile(r"</?\s*[A-Za-z][^<>]*(?:>|$)|<[!?][^<>]*(?:>|$)")
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\s*(?:\([^)\n]*\)|\[[^\]\n]*\])")
_MD_REFERENCE = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$", re.MULTILINE)
_MD_LINK = re.compile(
    r"\[([^\]\n]*)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+[\"'][^)\n]*[\"'])?\s*\)"
)
_TRUSTED_LINK = re.compile(
    r"^https://(?:www\.|m\.)?(?:imdb\.com|themoviedb\.org)/[\w/?=&%.#-]*$", re.IGNORECASE
)


def _strip_markup(text: str) -> str:
    text = _ACTIVE_BLOCK.sub("", text)
    text = _HTML_COMMENT.sub("", text)
    text = _HTML_TAG.sub("", text)
    # Whatever could still open a tag is shown as a look-alike, never parsed as markup.
    text = text.replace("<", "\u2039")
    text = _MD_IMAGE.sub("", text)
    text = _MD_REFERENCE.sub("", text)
    return _MD_LINK.sub(
        lambda m: m.group(0) if _TRUSTED_LINK.match(m.group(2)) else m.group(1), text
    )


# ---------------------------------------------------------------- internal data (out)

_KEY_CHARS = r"[\"'`]?"
_RECORD_KEYS = (
    *INTERNAL_FIELDS,
    "movie_id",
    "movieId",
    "imdb_id",
    "tmdb_id",
    "ml_rating_mean",
    "ml_rating_count",
    "ml_rating_bayes",
    "imdb_votes",
    "relevance",
    "sources",
)
_RECORD_KEY = re.compile(r"[\"']\s*(?:" + "|".join(_RECORD_KEYS) + r")\s*[\"']\s*:")
_FENCE = re.compile(r"```[a-zA-Z]*\n?(.*?)```", re.DOTALL)
_FIELD_VALUE = r"(?:\[[^\]]*\]|\{[^}]*\}|\"[^\"]*\"|'[^']*'|[^\s,;)\]]+)"
_INTERNAL_FIELD = re.compile(
    _KEY_CHARS
    + r"\b(?:user[_ ]tags|genome[_ ]tags|content[_ ]hash)\b"
    + _KEY_CHARS
    + r"(?:\s*[:=]\s*"
    + _FIELD_VALUE
    + r"?)?",
    re.IGNORECASE,
)
# "document" is an ordinary English word: only its key forms are internal.
_DOCUMENT_FIELD = re.compile(
    r"(?:[\"'`]document[\"'`](?:\s*[:=]\s*(?:\"[^\"]*\"|'[^']*'|[^\n]*))?"
    r"|\bdocument\s*[:=]\s*(?:\"[^\"]*\"|'[^']*'|[^\n]*))",
    re.IGNORECASE,
)
_RELEVANCE = re.compile(
    r"\s*[(\[]\s*(?:(?:genome\s+)?relevance(?:\s+score)?\s*[:=]?\s*)?(?:0?\.\d{2,}|1\.0+|0)\s*[)\]]"
    r"|\b(?:genome\s+)?relevance(?:\s+score)?\s*(?:of|is|[:=])?\s*(?:0?\.\d+|1\.0+|\d{1,3}\s*%)",
    re.IGNORECASE,
)
_MOVIE_ID = re.compile(
    r"\s*[(\[]\s*(?:movie[_ ]?id|id)\s*(?:[:=#]|is|of)?\s*\d+\s*[)\]]"
    r"|\b(?:movie[_ ]?id|id)\s*(?:[:=#]|is|of)?\s*\d+\b",
    re.IGNORECASE,
)
_ROLE_LINE = re.compile(
    r"^\s*(?:system\s*:|\[system\]|<\|system\|>|<\|im_start\|>\s*system|###\s*system)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORDS = re.compile(r"\w+")


def markers_from_prompt(prompt: str, *, min_words: int = 5) -> list[str]:
    """The sentences of a system prompt that are long enough to mark an echo of it.

    Args:
        prompt: The system prompt text.
        min_words: Shorter sentences ("Be brief.") could occur in a normal answer.

    Returns:
        Sentences to add to :data:`SYSTEM_PROMPT_MARKERS`.
    """
    sentences = _SENTENCE_END.split(" ".join(prompt.split()))
    return [s.strip() for s in sentences if len(_WORDS.findall(s)) >= min_words]


def _balanced_end(text: str, start: int) -> int | None:
    """Index after the brace that closes the one at ``start`` (quotes respected)."""
    depth = 0
    quote: str | None = None
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or not text[i - 1].isalnum()):
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _drop_records(text: str) -> str:
    text = _FENCE.sub(lambda m: "" if _RECORD_KEY.search(m.group(1)) else m.group(0), text)
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "{":
            end = _balanced_end(text, i)
            if end is not None and _RECORD_KEY.search(text[i:end]):
                i = end
                continue
        out.append(text[i])
        i += 1
    # Arrays whose records were all removed leave "[, ]" behind.
    return re.sub(r"\[\s*(?:,\s*)*\]", "", "".join(out))


def _drop_prompt_echoes(text: str, markers: Iterable[str]) -> str:
    keys = [key for key in (_squash(m) for m in markers) if key]

    def is_echo(sentence: str) -> bool:
        squashed = f" {_squash(sentence)} "
        return any(f" {key} " in squashed for key in keys)

    paragraphs = re.split(r"\n\s*\n", text)
    kept: list[str] = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        if any(_ROLE_LINE.match(line) for line in lines):
            continue
        sentences = [s for line in lines for s in _SENTENCE_END.split(line)]
        if sum(is_echo(s) for s in sentences) >= 2:
            # Several prompt sentences in one paragraph: the paragraph is a prompt dump.
            continue
        new_lines = [
            " ".join(s for s in _SENTENCE_END.split(line) if not is_echo(s))
            if any(is_echo(s) for s in _SENTENCE_END.split(line))
            else line
            for line in lines
        ]
        kept.append("\n".join(new_lines))
    return "\n\n".join(kept)


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(r"(?<=\S)[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+(?=[,.;:!?)])", "", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"[,;:]\s*(?=[.!?])", "", text)
    text = re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def scrub_internal(text: str, *, extra_markers: Iterable[str] = ()) -> str:
    """Remove internal data from text that is about to be shown to a user.

    The text is normalised first (:func:`normalise_text`), secrets are removed
    (:func:`redact_secrets`), HTML tags and markdown images are dropped and links to
    anywhere but IMDb/TMDB become their text. Then it removes JSON (or Python-literal)
    dumps of movie records, the internal fields
    (``user_tags``, ``genome_tags``, ``content_hash``, ``document``) with their values,
    genome relevance scores (``"relevance 0.87"``, ``"dark (0.912)"``), raw movie ids
    (``"movie_id 2571"``, ``"id=2571"``) and sentences that echo the system prompt (any of
    :data:`SYSTEM_PROMPT_MARKERS` or ``extra_markers``; a paragraph with two such sentences,
    or under a ``System:`` role line, goes entirely). Ratings, years, runtimes, titles and
    IMDb links stay.

    Args:
        text: An answer, a reason, an error message.
        extra_markers: More system-prompt phrases for this call.

    Returns:
        The cleaned text, stripped; text with nothing to remove comes back unchanged
        otherwise (so ``scrub_internal(t) != t.strip()`` tells that something was removed).

    Example:
        >>> scrub_internal("Heat (movie_id 6): a tense heist (0.97) thriller, relevance 0.91.")
        'Heat: a tense heist thriller.'
    """
    before = text
    text = _strip_markup(redact_secrets(normalise_text(text)))
    text = _drop_records(text)
    text = _drop_prompt_echoes(text, [*SYSTEM_PROMPT_MARKERS, *extra_markers])
    text = _INTERNAL_FIELD.sub("", text)
    text = _DOCUMENT_FIELD.sub("", text)
    text = _RELEVANCE.sub("", text)
    text = _MOVIE_ID.sub("", text)
    if text == before:
        # Clean text comes back as written: callers compare to tell clean from scrubbed.
        return before.strip()
    logger.debug("scrubbed internal data from outgoing text")
    return _tidy(text)
