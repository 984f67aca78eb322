"""Understand a movie request without an LLM: filters, "like X" seeds, moods, follow-ups.

The rule: an explicit constraint becomes a hard filter, a vibe becomes a soft boost. A
message is read up to its first :data:`MAX_QUERY_CHARS` characters, in time linear in what
is read (a pasted or hostile 64k-character text parses in well under 50 ms).

- **Genre nouns filter** (``filters.genres_any``): "horror", "a thriller", "sci-fi",
  "documentaries", "war movies", "westerns", "cartoons"/"animated", "kids movies"/"for the
  family" (Children), "noir". Two genre words written together ("sci-fi thriller",
  "horror-comedy", "crime drama") and "rom-com"/"romantic comedy" mean every one of them
  (``genres_all``); genres listed apart ("horror or comedy") mean any of them.
- **Mood adjectives boost** (``boost_genres``/``boost_terms``): "scary" boosts Horror,
  "funny" Comedy, "romantic" Romance, "feel-good"/"cheer me up"/"bored" Comedy, "to chill
  with friends"/"party" Comedy, "date night" Romance and Comedy, "mind-bending" Sci-Fi,
  Thriller and Mystery, "dark"/"gritty" only words. "old"/"classic" boost the word classic.
  :data:`VOCABULARY` is the whole table.
- **Negations never filter**: "no horror", "not a comedy", "without romance", "nothing too
  scary" put the genre in ``avoid_genres`` (a soft penalty). A person after a negation
  ("without Adam Sandler") excludes that person's movies (``exclude_ids``).
- **Years filter**: decades ("90s", "the nineties", "late 80s"), "from/in 1994" (that year),
  "after 2010" (2011 on), "since 2000", "before 1980" (to 1979), "until 1980",
  "between 1990 and 1995", "2000-2005". "recent"/"new releases"/"latest" and what is
  showing now ("still in theaters", "current movies") filter to the catalogue's newest
  ``recent_years`` years, "within the last year"/"the past few years" to its newest two or
  three (at least two): the catalogue ends at a fixed date, so "new" means new in it.
  Where a film was once seen ("I saw it in the theater") is no recency.
- **Ratings filter** (``min_rating``, 0-10): "rated above 8", "rating over 7.5", "8+ on imdb",
  "at least 4 stars" (stars and "/5" are doubled). "best", "top rated", "highly rated",
  "acclaimed" set ``wants_best`` and filter nothing.
- **People filter** (``filters.people``): full names the catalogue knows ("with tom hanks");
  a surname alone after "directed by"/"starring"/"featuring", or capitalised after
  "by"/"from"/"with" or before "movies" ("by Spielberg", "Nolan films"), when it names one
  catalogue person (or one clearly more prolific than any namesake); a name written with a
  typo or other spacing ("kristin wigg", "daniel day lewis") when it is close to one
  person's, word by word (:meth:`~movie_rag.chain.catalogue.Catalogue.closest_person`).
- **Seeds**: "like X", "similar to X", "I liked/loved/enjoyed X", "in the vein of X",
  "fans of X", "if I liked X what else", quoted titles: X is resolved with
  :meth:`Catalogue.resolve_title` (any case, with or without year, "Matrix, The", small
  typos); an unresolved X is kept as ``seed_text``. The seed's words are taken out of the
  query before anything else is read, so "like Scary Movie" filters no genre. Present-tense
  "I like/love X" only counts when X is exactly a catalogue title ("I love horror" is a
  genre).
- **Follow-ups**: "more like the second one" (first…tenth, "#2", "number 3", "that last
  one") is always a follow-up (``more_like`` with a 0-based position; "last" is resolved
  against the history's last recommendations, else -1). "something lighter", "darker",
  "show me more"/"others" are follow-ups only when the history holds an earlier answer;
  lighter/darker also boost their mood either way.
- **Titles named without a cue** ("I want to watch 2001: A Space Odyssey again, anything
  similar?"): a capitalised run of two or more words that is exactly a catalogue title is
  taken out of the query (its year and words constrain nothing) and becomes the seed when
  the query asks for something similar.
- **Topics**: "movies about dinosaurs" boosts the words "dinosaurs".
- **Off-topic**: a query is on-topic when it names movies, watching, a genre, a person, a
  title, a seed, a rating or an ordinal follow-up; one with only a mood, a year or a
  "recommend" is on-topic unless it names another subject (weather, poems, recipes...). A
  one-word title counts as naming a title only when no other subject is named ("a poem about
  Titanic" is off-topic, "a poem about The Dark Knight" is not).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from movie_rag.catalog.titles import title_key
from movie_rag.chain.catalogue import Catalogue, MovieRef
from movie_rag.chain.mentions import read_mentions
from movie_rag.chain.query_patterns import (
    _BARE_LIKE,
    _BARE_PERIOD,
    _BEST,
    _BOUND,
    _CAPITALISED_RUN,
    _CAPITALISED_WORD,
    _DARKER,
    _DARKER_ROW,
    _DIRECTOR_CUES,
    _FOREIGN_DECADE,
    _I_LIKE,
    _LAST_YEARS,
    _LIGHTER,
    _LIGHTER_ROW,
    _LIKE_BEFORE,
    _LIKE_CUE,
    _LIKED_CUE,
    _LIST_GAP,
    _MAX_SEED_WORDS,
    _MORE,
    _NEGATED_BEFORE,
    _ORDINALS,
    _POSITION,
    _QUOTED,
    _RANGE,
    _RATING,
    _RECENT,
    _REQUEST_WORDS,
    _SEED_STOP,
    _SIMILAR,
    _SURNAME_BEFORE_MOVIES,
    _SURNAME_CUE,
    _TITLE_YEAR,
    _TOPIC,
    _WEAK_CUE,
    _YEAR_AFTER,
    _YEAR_SUFFIX,
    CHIT_CHAT_WORDS,
    FOREIGN_OPS,
    MAX_QUERY_CHARS,
    WHERE_TO_WATCH,
    _article_first,
    _content_words,
    _head,
    _period,
    _plain_quotes,
    _rating_value,
    _seed_cues,
    _seed_end,
    _spans_longest_first,
    _surname,
    _unique,
    _window_before,
    is_chit_chat,
    only_vocabulary,
    strip_chit_chat,
)
from movie_rag.chain.safety import is_off_topic, mentions_movies, redact_pii
from movie_rag.chain.text import STOP_WORDS
from movie_rag.chain.types import FollowUp, HistoryTurn, ParsedQuery, SeedMovie
from movie_rag.chain.vocabulary import (
    _ASKING,
    _COMPILED,
    _FILLER,
    _FUNCTION_WORDS,
    VOCABULARY,
    VocabularyRow,
    VocabularySpeller,
    _only_vocabulary,
    _title_cased,
    runs_into_vocabulary,
)
from movie_rag.index.filters import SearchFilters

__all__ = ["MAX_QUERY_CHARS", "VOCABULARY", "QueryParser", "VocabularyRow", "only_vocabulary"]

# The next word of the text is capitalised (a name goes on).
_NEXT_CAPITALISED = re.compile(r"\s+[A-Z]")
_KIND_NOUN = re.compile(r"\s+(?:movies?|films?|flicks?)\b", re.IGNORECASE)
logger = logging.getLogger("movie_rag")


@dataclass
class _Match:
    start: int
    end: int
    row: VocabularyRow
    negated: bool = False


@dataclass
class _Work:
    """The query being read: a masked copy loses each phrase once it is understood.

    Masking edits a character list and the string is rebuilt only when it is next read, and
    a negation is looked for in a bounded window before the phrase: reading a query costs
    time linear in its length however many phrases it holds.
    """

    text: str
    boost_terms: list[str] = field(default_factory=list)
    boost_genres: list[str] = field(default_factory=list)
    avoid_genres: list[str] = field(default_factory=list)
    titles: list[tuple[int, int]] = field(default_factory=list)
    aside: list[tuple[int, int]] = field(default_factory=list)
    _chars: list[str] = field(default_factory=list, repr=False)
    _masked: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._chars = list(self.text)
        self._masked = self.text

    @property
    def masked(self) -> str:
        """The text with every understood phrase blanked out (same length as ``text``)."""
        if self._masked is None:
            self._masked = "".join(self._chars)
        return self._masked

    def mask(self, start: int, end: int) -> None:
        self._chars[start:end] = " " * (end - start)
        self._masked = None

    def mask_title(self, start: int, end: int) -> None:
        """Mask a movie title: its words are neither constraints nor words to match."""
        self.titles.append((start, end))
        self.mask(start, end)

    def set_aside(self, start: int, end: int) -> None:
        """Mask words that name no topic ("on netflix"): they are no words to match either."""
        self.aside.append((start, end))
        self.mask(start, end)

    def search_text(self) -> str:
        """The text without the titles named in it, words set aside, "I love", small talk."""
        chars = list(self.text)
        # "I love action films" is about action films, not about love.
        liking = [m.span() for m in _I_LIKE.finditer(self.text)]
        for start, end in [*self.titles, *self.aside, *liking]:
            chars[start:end] = " " * (end - start)
        return " ".join(strip_chit_chat("".join(chars)).split())

    def before(self, start: int) -> str:
        """The masked text just before ``start``: enough to hold a negation and its filler."""
        return _window_before(self._chars, start)

    def negated(self, start: int) -> bool:
        return _NEGATED_BEFORE.search(self.before(start)) is not None

    def boost(self, row: VocabularyRow) -> None:
        self.boost_terms.extend(row.terms)
        self.boost_genres.extend(row.genres)


def _names_one_film(title: SeedMovie | None) -> bool:
    """Whether a request that is only a title asks for films like it.

    "Heat", "I, Robot", "the dark knight", "heat (1995)" name a film: its neighbours answer,
    not the titles sharing its words (*Body Heat*, *City Heat*). A lone lower-case word
    ("heat", "love") may be a topic and stays one.
    """
    if title is None:
        return False
    written = title.written_as
    significant = [
        w for w in re.findall(r"[^\W_][\w']*", written) if w.lower() not in _FUNCTION_WORDS
    ]
    return (
        _title_cased(written) or len(significant) >= 2 or _YEAR_SUFFIX.search(written) is not None
    )


# Words of which a misspelt name has at most half ("will ferel", not "good comedies").
_COMMON_WORDS = frozenset(STOP_WORDS | _FILLER | _ASKING | CHIT_CHAT_WORDS)


class QueryParser:
    """Deterministic reader of movie requests (no LLM).

    Args:
        catalogue: The catalogue titles and people are resolved in.
        recent_years: How many of the catalogue's newest years "recent" and "new" cover.

    Example:
        >>> parser = QueryParser(catalogue)  # doctest: +SKIP
        >>> parsed = parser.parse("scary movies from the 90s like Scream, rated above 7")
        >>> parsed.filters.year_min, parsed.filters.min_rating, parsed.seed.title
        (1990, 7.0, 'Scream')
        >>> parser.parse("more like the second one", history).follow_up
        FollowUp(kind='more_like', position=1)
    """

    def __init__(self, catalogue: Catalogue, *, recent_years: int = 5) -> None:
        self.catalogue = catalogue
        self.recent_years = recent_years
        # surname -> person -> [movies directed, movies acted in]
        surnames: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        newest: int | None = None
        name_words: set[str] = set()
        for movie_id in catalogue.ids():
            movie = catalogue.movie(movie_id)
            year = movie.get("year")
            if year is not None and (newest is None or year > newest):
                newest = year
            for slot, column in ((0, "directors"), (1, "cast")):
                for name in movie.get(column) or ():
                    name_words.update(re.findall(r"[^\W\d_]+", name.lower()))
                    surname = _surname(name)
                    if surname:
                        surnames[surname][" ".join(name.split())][slot] += 1
        self._surnames = {
            key: {n: (c[0], c[1]) for n, c in v.items()} for key, v in surnames.items()
        }
        self._newest_year = newest
        self._title_keys = {title_key(catalogue.movie(i)["title"]) for i in catalogue.ids()}
        title_words: set[str] = set()
        known: set[str] = set(STOP_WORDS) | set(_FILLER) | CHIT_CHAT_WORDS
        for movie_id in catalogue.ids():
            movie = catalogue.movie(movie_id)
            title_words.update(re.findall(r"[^\W\d_]+", str(movie["title"]).lower()))
            known.update(re.findall(r"[^\W\d_]+", str(movie.get("overview") or "").lower()))
        #: Words of any title: a surname among them is no director named alone ("Stone").
        self._title_words = frozenset(title_words)
        #: Words movies are described in: a request with none of them is gibberish.
        self._known_words = frozenset(known | title_words)
        self._spelled = VocabularySpeller(self._known_words | name_words)

    def _exact_title(self, written: str) -> MovieRef | None:
        """The catalogue movie whose title is exactly ``written`` (normalised), if any."""
        written = _article_first(written.strip().strip("\"'"))
        year = _YEAR_SUFFIX.search(written)
        bare = written[: year.start()] if year and year.start() > 0 else written
        if title_key(bare) not in self._title_keys:
            return None
        ref = self.catalogue.resolve_title(written)
        return ref if ref is not None and ref.score == 100 else None

    def parse(self, query: str, history: Sequence[HistoryTurn] | None = None) -> ParsedQuery:
        """Read one request.

        Args:
            query: The user's words.
            history: Earlier turns of the conversation (oldest first), for follow-ups.

        Returns:
            Filters, boosts, seed, follow-up and topic of the request; ``text`` is the query
            with personal data redacted and misspelt genre and mood words corrected.
        """
        text = self._spelled(redact_pii(_head(query)).strip())
        work = _Work(_plain_quotes(text))
        history = list(history or ())
        for service in WHERE_TO_WATCH.finditer(work.masked):
            work.set_aside(*service.span())
        follow_up = self._position_follow_up(work, history)
        whole_title = self._whole_title(work)
        seed, seed_text = self._seed(work)
        mentions = read_mentions(work, self.catalogue)
        if seed is None and mentions.liked:
            seed = mentions.liked[0]
        mentioned = whole_title or self._mentioned_title(work)
        if (
            seed is None
            and seed_text is None
            and (_SIMILAR.search(work.masked) or _names_one_film(whole_title))
        ):
            seed = mentioned
        mood_follow_up, follow_up_words = self._mood_follow_up(work, history)
        min_rating = self._rating(work)
        year_min, year_max = self._years(work)
        people, excluded = self._people(work)
        genres_any, genres_all = self._vocabulary(work)
        required = set(genres_any) | set(genres_all)
        avoid = _unique(g for g in work.avoid_genres if g not in required)
        parsed = ParsedQuery(
            text=text,
            filters=SearchFilters(
                genres_any=tuple(genres_any) or None,
                genres_all=tuple(genres_all) or None,
                year_min=year_min,
                year_max=year_max,
                min_rating=min_rating,
                people=tuple(people) or None,
                exclude_ids=frozenset(
                    {
                        *(m for person in excluded for m in self.catalogue.movies_with(person)),
                        *mentions.ids(),
                    }
                )
                or None,
            ),
            boost_terms=_unique(work.boost_terms),
            boost_genres=_unique(g for g in work.boost_genres if g not in required | set(avoid)),
            avoid_genres=avoid,
            seed=seed,
            seed_text=seed_text,
            follow_up=follow_up or mood_follow_up,
            wants_best=_BEST.search(work.masked) is not None,
            liked=_unique_movies([seed, *mentions.liked] if seed else mentions.liked),
            disliked=mentions.disliked,
            seen=mentions.seen,
            search_text=work.search_text(),
        )
        chit_chat = is_chit_chat(text)
        parsed.off_topic = not chit_chat and self._off_topic(
            parsed, mentioned is not None, follow_up_words
        )
        parsed.unclear = not chit_chat and not parsed.off_topic and self._unclear(parsed, work)
        if chit_chat or (mentioned is None and self._asks_for_anything(parsed)):
            # Small talk or "recommend me some" asks for nothing in particular: well-known,
            # well-liked films, not title-word matches ("Hello, Dolly!", "All of Me").
            parsed.search_text = "movies"
            parsed.wants_best = True
            parsed.open_ask = True
        logger.debug(
            "parsed query: filters=%s seed=%s follow_up=%s off_topic=%s",
            parsed.filters.model_dump(exclude_none=True),
            seed.title if seed else seed_text,
            parsed.follow_up,
            parsed.off_topic,
        )
        return parsed.with_seed_set()

    def _off_topic(self, parsed: ParsedQuery, mentioned: bool, follow_up_words: bool) -> bool:
        """Off-topic: nothing says movies, and another subject is named or nothing is asked."""
        filters = parsed.filters
        about_movies = bool(
            parsed.seed
            or mentioned
            or filters.people
            or filters.exclude_ids
            or filters.genres_any
            or filters.genres_all
            or parsed.avoid_genres
            or filters.min_rating is not None
            or (parsed.follow_up and parsed.follow_up.position is not None)
            or mentions_movies(parsed.text)
        )
        asks_something = bool(
            parsed.boost_terms
            or parsed.seed_text
            or filters.year_min is not None
            or filters.year_max is not None
            or follow_up_words
            or parsed.wants_best
            or _REQUEST_WORDS.search(parsed.text)
            # A bare topic of two or more words ("a dystopian future", "ghost story") is
            # a request for movies about it; a lone word ("hello") is not.
            or len(_content_words(parsed.text)) >= 2
        )
        other_subject = is_off_topic(parsed.text)
        if not about_movies:
            # A lone capitalised word may be a title ("Titanic?") unless the query is plainly
            # about something else ("the weather in Paris").
            about_movies = self._names_a_title(parsed.text, single_words=not other_subject)
        return not about_movies and (other_subject or not asks_something)

    def _asks_for_anything(self, parsed: ParsedQuery) -> bool:
        """An on-topic request that names no kind, topic, person, mood or movie it wants.

        What it does not want may be there ("I don't like sci-fi"): anything else, then.
        """
        return not (
            parsed.off_topic
            or parsed.unclear
            or parsed.seed
            or parsed.seed_text
            or parsed.liked
            or parsed.follow_up
            or parsed.boost_terms
            or parsed.boost_genres
            or not parsed.filters.is_empty
            or not only_vocabulary(parsed.search_text or "")
        )

    def _unclear(self, parsed: ParsedQuery, work: _Work) -> bool:
        """Gibberish: nothing understood, and no word of it is a word movies are described in."""
        if (
            parsed.seed
            or parsed.liked
            or parsed.disliked
            or parsed.seen
            or parsed.boost_terms
            or parsed.follow_up
            or not parsed.filters.is_empty
        ):
            return False
        words = [w.lower() for w in re.findall(r"[^\W\d_]+", work.masked)]
        return bool(words) and not any(w in self._known_words for w in words)

    def _whole_title(self, work: _Work) -> SeedMovie | None:
        """The request when it is one catalogue title and nothing else, taken out of it.

        Commas and "&" inside a title break the other readers' runs of words: "I, Robot"
        was refused as off-topic and "Crazy, Stupid, Love." read as liking *Love*.
        """
        text = work.masked
        start = len(text) - len(text.lstrip(" \"'"))
        end = len(text.rstrip(" .!?\"'")) or len(text.rstrip())
        written = text[start:end]
        if not written.strip() or len(written.split()) > _MAX_SEED_WORDS:
            return None
        if _only_vocabulary(written) and (not _title_cased(written) or len(written.split()) == 1):
            # "war" is the War genre, as "comedy" is Comedy; a message's first capital says
            # nothing ("War", "Romance"), the capitals of "Love Actually" do.
            return None
        ref = self._exact_title(written) or self._exact_title(text[start:].rstrip(" \"'"))
        if ref is None:
            return None
        work.mask_title(start, len(text.rstrip(" \"'")))
        return SeedMovie(movie_id=ref.movie_id, title=ref.title, year=ref.year, written_as=written)

    def _mentioned_title(self, work: _Work) -> SeedMovie | None:
        """A catalogue title of two or more words written capitalised, taken out of the query.

        Its words must not read as constraints ("2001: A Space Odyssey" is not a year,
        "Scary Movie" not a mood). Only exact title matches count.
        """
        found: SeedMovie | None = None
        for run in _CAPITALISED_RUN.finditer(work.masked):
            words = [m.span() for m in re.finditer(r"\S+", run.group(0))]
            if len(words) < 2 or len(words) > _MAX_SEED_WORDS:
                continue
            for i, j in _spans_longest_first(len(words), shortest=2):
                start, end = run.start() + words[i][0], run.start() + words[j][1]
                written = work.text[start:end].rstrip(",:;")
                ref = self._exact_title(written)
                if ref is not None:
                    work.mask_title(start, end)
                    found = found or SeedMovie(
                        movie_id=ref.movie_id, title=ref.title, year=ref.year, written_as=written
                    )
                    break
        return found

    # ------------------------------------------------------------------ follow-ups

    def _position_follow_up(self, work: _Work, history: list[HistoryTurn]) -> FollowUp | None:
        """A reference to one earlier recommendation ("more like the second one")."""
        for match in _POSITION.finditer(work.masked):
            if match.group("ord"):
                position = _ORDINALS[match.group("ord").lower()]
                shown = _last_recommendations(history)
                if position == -1 and shown:
                    position = len(shown) - 1
            else:
                position = int(match.group("num")) - 1
                if position < 0:
                    continue
            cue = _LIKE_BEFORE.search(work.masked[: match.start()])
            work.mask(cue.start() if cue else match.start(), match.end())
            return FollowUp(kind="more_like" if cue else "other", position=position)
        return None

    def _mood_follow_up(
        self, work: _Work, history: list[HistoryTurn]
    ) -> tuple[FollowUp | None, bool]:
        """Lighter, darker or more, and whether such words occur at all."""
        has_answer = any(turn.role == "assistant" for turn in history)
        for pattern, kind, row in (
            (_LIGHTER, "lighter", _LIGHTER_ROW),
            (_DARKER, "darker", _DARKER_ROW),
            (_MORE, "more", None),
        ):
            match = pattern.search(work.masked)
            if match:
                work.mask(*match.span())
                if row is not None:
                    work.boost(row)
                # Without an earlier answer there is nothing to be lighter than or more of.
                return (FollowUp(kind=kind) if has_answer else None), True
        return None, False

    # ------------------------------------------------------------------ seeds

    def _seed(self, work: _Work) -> tuple[SeedMovie | None, str | None]:
        masked = work.masked
        candidates = _seed_cues(masked)
        for match in _QUOTED.finditer(masked):
            group = 1 if match.group(1) is not None else 2
            ref, _ = self._resolve_words(work, *match.span(group), exact_only=not candidates)
            if ref is not None:
                return self._take_seed(work, ref, match.start(), match.end()), None
        # Every cue gets its chance to name a catalogue title before any unresolved text
        # is kept: "I loved Blorpzilla, and movies like Heat" is about Heat.
        for pattern, cue in candidates:
            end = _seed_end(masked, cue.end())
            ref, used_end = self._resolve_words(
                work, cue.end(), end, exact_only=pattern is _WEAK_CUE
            )
            if ref is not None:
                return self._take_seed(work, ref, cue.start(), used_end), None
        for pattern, cue in candidates:
            if pattern is _WEAK_CUE:
                continue
            end = _seed_end(masked, cue.end())
            written = self._unresolved(work, cue.end(), end, titled=pattern is not _LIKE_CUE)
            if written:
                return None, written
        return None, None

    def _resolve_words(
        self, work: _Work, start: int, end: int, *, exact_only: bool
    ) -> tuple[MovieRef | None, int]:
        """The longest leading run of words in ``[start, end)`` that names a catalogue title."""
        words = [m.span() for m in re.finditer(r"\S+", work.masked[start:end])][:_MAX_SEED_WORDS]
        for n in range(len(words), 0, -1):
            stop = start + words[n - 1][1]
            raw = work.text[start + words[0][0] : stop]
            candidate = raw.rstrip(",:;\"'")
            if not candidate or (_only_vocabulary(candidate) and not _title_cased(candidate)):
                continue
            if not _title_cased(candidate) and (
                _KIND_NOUN.match(work.text, stop)
                or runs_into_vocabulary(work.text, start + words[0][0], stop)
            ):
                # "spy movies", "dog films", "love stories": a kind of film, not "Spy", "Love"
                continue
            year_match = _YEAR_AFTER.match(work.masked[stop:end])
            year = int(year_match.group(1)) if year_match else None
            ref = self.catalogue.resolve_title(_article_first(candidate), year)
            if ref is None or (exact_only and ref.score < 100):
                continue
            if ref.score < 100 and (
                candidate.split()[-1].lower() in _FUNCTION_WORDS
                or self.catalogue.people_in(candidate)
                # A close match on the start of a name ("James" of "James Bond") is not it.
                or (n < len(words) and _NEXT_CAPITALISED.match(work.text, stop))
            ):
                continue
            if year_match and (year is None or ref.year == year):
                stop += year_match.end()
            return ref, stop
        return None, start

    def _take_seed(self, work: _Work, ref: MovieRef, start: int, end: int) -> SeedMovie:
        written = work.text[start:end]
        cue = next(
            (m for p in (_LIKE_CUE, _LIKED_CUE, _BARE_LIKE, _WEAK_CUE) if (m := p.match(written))),
            None,
        )
        if cue:
            written = written[cue.end() :]
        work.mask_title(start + (cue.end() if cue else 0), end)
        work.mask(start, end)
        return SeedMovie(
            movie_id=ref.movie_id,
            title=ref.title,
            year=ref.year,
            written_as=written.strip().strip("\"'"),
        )

    def _unresolved(self, work: _Work, start: int, end: int, *, titled: bool) -> str | None:
        """The title as written when no catalogue title matches (cut at the first connector).

        With ``titled``, only text written as a title (capitalised or quoted) counts.
        """
        kept: list[tuple[int, int]] = []
        for match in re.finditer(r"\S+", work.masked[start:end]):
            word = match.group(0).lower().strip(",:;\"'")
            if word in _SEED_STOP or _YEAR_AFTER.fullmatch(word) or len(kept) == _MAX_SEED_WORDS:
                break
            kept.append(match.span())
            if match.group(0).endswith(","):
                break
        if not kept:
            return None
        span = (start + kept[0][0], start + kept[-1][1])
        raw = work.text[span[0] : span[1]]
        written = raw.strip(",:;\"' ")
        if not written or _only_vocabulary(written):
            return None
        if titled and not (_title_cased(written) or raw.lstrip().startswith(("'", '"'))):
            return None
        work.mask(*span)
        return written

    # ------------------------------------------------------------------ ratings and years

    def _rating(self, work: _Work) -> float | None:
        for pattern in _RATING:
            for match in pattern.finditer(work.masked):
                value = _rating_value(match)
                if value is None or work.negated(match.start()):
                    continue
                work.mask(*match.span())
                return value
        return None

    def _years(self, work: _Work) -> tuple[int | None, int | None]:
        periods: list[tuple[int, int]] = []
        low, high = None, None
        for match in _TITLE_YEAR.finditer(work.masked):
            # "I loved Easy A (2010)": a year in brackets belongs to the title before it.
            work.mask(*match.span())
        for match in _FOREIGN_DECADE.finditer(work.masked):
            decade = match.group("d") or match.group("e")
            period = _period(decade + "s")
            if period and not work.negated(match.start()):
                periods.append(period)
            work.mask(*match.span())
        for match in _RANGE.finditer(work.masked):
            first = match.group("a") or match.group("c") or match.group("e")
            last = match.group("b") or match.group("d") or match.group("f")
            a, b = _period(first), _period(last)
            if a and b and not work.negated(match.start()):
                periods.append((min(a[0], b[0]), max(a[1], b[1])))
            work.mask(*match.span())
        for match in _BOUND.finditer(work.masked):
            period = _period(match.group("p"))
            op = " ".join(match.group("op").lower().split())
            op = FOREIGN_OPS.get(op, op)
            if period is None or work.negated(match.start()):
                work.mask(*match.span())
                continue
            if op in ("after", "post", "newer than", "later than"):
                low = max(low or period[1] + 1, period[1] + 1)
            elif op == "since":
                low = max(low or period[0], period[0])
            elif op in ("before", "prior to", "pre", "older than", "earlier than"):
                high = min(high or period[0] - 1, period[0] - 1)
            elif op in ("until", "till", "up to", "through"):
                high = min(high or period[1], period[1])
            elif op in ("circa", "around") and period[0] == period[1]:
                periods.append((period[0] - 2, period[1] + 2))
            else:
                periods.append(period)
            work.mask(*match.span())
        for match in _BARE_PERIOD.finditer(work.masked):
            period = _period(match.group(0))
            if period and not work.negated(match.start()):
                periods.append(period)
            work.mask(*match.span())
        recent = _RECENT.search(work.masked)
        years = self.recent_years
        if recent is None and (recent := _LAST_YEARS.search(work.masked)):
            years = _years_back(recent.group("n"))
        if recent:
            work.mask(*recent.span())
            if not periods and low is None and high is None and self._newest_year:
                low = self._newest_year - years + 1
        if periods:
            span_low = min(p[0] for p in periods)
            span_high = max(p[1] for p in periods)
            bounded_low = max(span_low, low) if low is not None else span_low
            bounded_high = min(span_high, high) if high is not None else span_high
            if bounded_low <= bounded_high:
                return bounded_low, bounded_high
            logger.debug("year bounds contradict the years named; keeping the years")
            return span_low, span_high
        if low is not None and high is not None and low > high:
            logger.debug("contradictory year bounds %s..%s ignored", low, high)
            return None, None
        return low, high

    # ------------------------------------------------------------------ people

    def _people(self, work: _Work) -> tuple[list[str], list[str]]:
        wanted: list[str] = []
        unwanted: list[str] = []
        for name, start, end in self.catalogue.people_spans(work.masked):
            if name in wanted or name in unwanted:
                work.mask(start, end)
                continue
            (unwanted if work.negated(start) else wanted).append(name)
            work.mask(start, end)
        for pattern in (_SURNAME_CUE, _SURNAME_BEFORE_MOVIES):
            for match in pattern.finditer(work.masked):
                cue = " ".join((match.groupdict().get("cue") or "").lower().split())
                name = match.group("name")
                loose_cue = cue in ("directed by", "direction of", "starring", "featuring")
                if not (loose_cue or name[0].isupper()) or _only_vocabulary(name):
                    continue
                person = self._person_by_surname(name, cue)
                if person is None or person in wanted or person in unwanted:
                    continue
                (unwanted if work.negated(match.start()) else wanted).append(person)
                work.mask(*match.span("name"))
        for match in _CAPITALISED_WORD.finditer(work.masked):
            # "Tarantino but not Pulp Fiction": a prolific director's surname alone, when no
            # title has that word.
            name = match.group(0)
            if name.lower() in self._title_words or len(name) < 5:
                continue
            person = self._person_by_surname(name, "directed by")
            if person is None or person in wanted or person in unwanted:
                continue
            if self._surnames[name.casefold()][person][0] < 3:
                continue
            (unwanted if work.negated(match.start()) else wanted).append(person)
            work.mask(*match.span())
        for person, start, end in self._misspelt_people(work.masked):
            if person not in wanted and person not in unwanted:
                (unwanted if work.negated(start) else wanted).append(person)
            work.mask(start, end)
        return wanted, unwanted

    def _misspelt_people(self, text: str) -> list[tuple[str, int, int]]:
        """Names written with a typo or in other spacing ("kristin wigg", "daniel day lewis")."""
        words = [m for m in re.finditer(r"[^\W\d_]+", text) if len(m.group(0)) >= 2]
        found: list[tuple[str, int, int]] = []
        i = 0
        while i < len(words):
            for size in (3, 2):
                window = words[i : i + size]
                if len(window) < size or not all(
                    b.start() - a.end() == 1 for a, b in itertools.pairwise(window)
                ):
                    continue
                common = sum(w.group(0).lower() in _COMMON_WORDS for w in window)
                if 2 * common > size:
                    continue
                person = self.catalogue.closest_person(
                    " ".join(w.group(0) for w in window), exact=_COMMON_WORDS
                )
                if person is not None:
                    found.append((person, window[0].start(), window[-1].end()))
                    i += size - 1
                    break
            i += 1
        return found

    def _person_by_surname(self, word: str, cue: str) -> str | None:
        word = re.sub(r"'s$", "", word)
        candidates = self._surnames.get(word.casefold())
        if not candidates:
            return None
        slot = (
            0 if cue in _DIRECTOR_CUES else 1 if cue in ("starring", "featuring", "with") else None
        )
        if slot is not None and any(counts[slot] for counts in candidates.values()):
            candidates = {n: c for n, c in candidates.items() if c[slot]}
        ranked = sorted(candidates.items(), key=lambda item: -sum(item[1]))
        if len(ranked) == 1:
            return ranked[0][0]
        top, runner_up = sum(ranked[0][1]), sum(ranked[1][1])
        # Namesakes: only a clearly more prolific one is meant by the surname alone.
        if top >= 2 and top >= 2 * runner_up:
            return ranked[0][0]
        logger.debug("surname %r is ambiguous: %s", word, [name for name, _ in ranked[:3]])
        return None

    # ------------------------------------------------------------------ genres and moods

    def _vocabulary(self, work: _Work) -> tuple[list[str], list[str]]:
        base = work.masked
        for match in _TOPIC.finditer(base):
            topic = match.group("topic").strip()
            if not _only_vocabulary(topic):
                work.boost_terms.append(topic)
        found: list[_Match] = []
        for pattern, row in _COMPILED:
            for match in pattern.finditer(work.masked):
                found.append(_Match(match.start(), match.end(), row))
                work.mask(*match.span())
        found.sort(key=lambda m: m.start)
        previous: _Match | None = None
        for item in found:
            item.negated = _NEGATED_BEFORE.search(_window_before(base, item.start)) is not None or (
                previous is not None
                and previous.negated
                and _LIST_GAP.match(base[previous.end : item.start]) is not None
            )
            previous = item
        genres: list[list[str]] = []  # groups of genre words written together
        every: list[str] = []
        last_end = -1
        for item in found:
            row = item.row
            if item.negated:
                work.avoid_genres.extend(row.genres)
                # "I don't like sci-fi" is no word to match either.
                work.set_aside(item.start, item.end)
            elif row.kind == "mood":
                work.boost(row)
            elif row.kind == "every":
                every.extend(row.genres)
            else:
                # The original text decides: masked phrases between two genres separate them.
                gap = work.text[last_end : item.start] if last_end >= 0 else "x"
                if genres and re.fullmatch(r"[\s-]*", gap):
                    genres[-1].extend(row.genres)
                else:
                    genres.append(list(row.genres))
                last_end = item.end
        return _combine_genres(genres, every)

    # ------------------------------------------------------------------ topic

    def _names_a_title(self, text: str, *, single_words: bool) -> bool:
        """Whether the text names a catalogue title exactly (quoted or capitalised).

        Any run of capitalised words counts ("Is Inception any good?"), but a single word
        only when ``single_words`` and not merely capitalised as a sentence's first word,
        unless it is the whole query ("Titanic?").
        """
        if any(self._exact_title(m.group(1) or m.group(2)) for m in _QUOTED.finditer(text)):
            return True
        whole = text.strip(" .!?")
        for run in _CAPITALISED_RUN.finditer(text):
            before = text[: run.start()].rstrip()
            at_sentence_start = not before or before.endswith((".", "!", "?"))
            words = [m.span() for m in re.finditer(r"\S+", run.group(0))]
            for i, j in _spans_longest_first(len(words), shortest=1):
                written = run.group(0)[words[i][0] : words[j][1]]
                lone_word = i == j and written != whole
                if lone_word and (not single_words or (i == 0 and at_sentence_start)):
                    continue
                if self._exact_title(written):
                    return True
        return False


_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "few": 3, "couple": 2, "couple of": 2,
}  # fmt: skip


def _years_back(count: str | None) -> int:
    """How many of the catalogue's newest years "the last ``count`` years" covers.

    At least two: the catalogue's newest year is usually only partly in it, so "within the
    last year" would otherwise leave a handful of films.
    """
    if count is None:
        return 2
    word = " ".join(count.lower().split())
    return max(2, int(word) if word.isdigit() else _NUMBER_WORDS[word])


def _combine_genres(groups: list[list[str]], every: list[str]) -> tuple[list[str], list[str]]:
    """``(genres_any, genres_all)`` from genre words: together means all, apart means any."""
    compound = [group for group in groups if len(group) > 1]
    if every and not groups:
        return [], _unique(every)
    if len(groups) == 1 and compound and not every:
        return [], _unique(groups[0])
    # Mixed lists ("a rom-com or a horror") read as alternatives: the broader reading.
    return _unique([*every, *(g for group in groups for g in group)]), []


def _unique_movies(movies: Iterable[SeedMovie]) -> list[SeedMovie]:
    out: dict[int, SeedMovie] = {}
    for movie in movies:
        out.setdefault(movie.movie_id, movie)
    return list(out.values())


def _last_recommendations(history: list[HistoryTurn]) -> list[int]:
    for turn in reversed(history):
        if turn.role == "assistant" and turn.recommendations:
            return turn.recommendations
    return []
