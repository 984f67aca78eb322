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
  "between 1990 and 1995", "2000-2005". "recent"/"new releases"/"latest" filter to the
  catalogue's newest ``recent_years`` years: the catalogue ends at a fixed date, so "new"
  means new in it.
- **Ratings filter** (``min_rating``, 0-10): "rated above 8", "rating over 7.5", "8+ on imdb",
  "at least 4 stars" (stars and "/5" are doubled). "best", "top rated", "highly rated",
  "acclaimed" set ``wants_best`` and filter nothing.
- **People filter** (``filters.people``): full names the catalogue knows ("with tom hanks");
  a surname alone after "directed by"/"starring"/"featuring", or capitalised after
  "by"/"from"/"with" or before "movies" ("by Spielberg", "Nolan films"), when it names one
  catalogue person (or one clearly more prolific than any namesake).
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

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from movie_rag.catalog.titles import title_key
from movie_rag.chain.catalogue import Catalogue, MovieRef
from movie_rag.chain.generators.grounded import STOP_WORDS
from movie_rag.chain.safety import is_off_topic, mentions_movies, redact_pii
from movie_rag.chain.types import FollowUp, HistoryTurn, ParsedQuery, SeedMovie
from movie_rag.index.filters import SearchFilters

__all__ = ["MAX_QUERY_CHARS", "VOCABULARY", "QueryParser", "VocabularyRow", "only_vocabulary"]

logger = logging.getLogger("movie_rag")


@dataclass(frozen=True)
class VocabularyRow:
    """One line of the genre and mood vocabulary.

    Attributes:
        pattern: A regular expression (case-insensitive, matched as whole words).
        kind: ``genre`` (an explicit genre: filter), ``every`` (several genres that must all
            hold, "rom-com") or ``mood`` (a vibe: soft boost).
        genres: MovieLens genres the phrase names or suggests.
        terms: Words that softly boost matching movies (moods only).
    """

    pattern: str
    kind: Literal["genre", "every", "mood"]
    genres: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()


def _genre(pattern: str, *genres: str) -> VocabularyRow:
    return VocabularyRow(pattern, "every" if len(genres) > 1 else "genre", genres)


def _mood(pattern: str, genres: tuple[str, ...], terms: tuple[str, ...]) -> VocabularyRow:
    return VocabularyRow(pattern, "mood", genres, terms)


#: Genre and mood phrases; earlier rows win where phrases overlap ("romantic comedy" before
#: "romantic", "action-packed" before "action").
VOCABULARY: tuple[VocabularyRow, ...] = (
    # Explicit genres: hard filters.
    _genre(r"rom[- ]?coms?|romantic[- ]comed(?:y|ies)", "Romance", "Comedy"),
    _mood(
        r"action[- ]packed|thrilling|exciting|intense|suspenseful|suspense|gripping|tense|"
        r"edge[- ]of[- ](?:my|your|the)[- ]seat|adrenaline",
        ("Thriller", "Action"),
        ("thrilling", "suspense", "intense"),
    ),
    _genre(r"horrors?", "Horror"),
    _genre(r"sci[- ]?fi|science[- ]fiction", "Sci-Fi"),
    _genre(r"animated|animations?|cartoons?|anime", "Animation"),
    _genre(
        r"kid(?:s|die)?[- ](?:movies?|films?|friendly|flicks?)|child[- ]friendly|"
        r"children'?s(?: movies?| films?)?|family[- ](?:movies?|films?|friendly|night)|"
        r"for (?:the |my |our |young |little )?(?:kids|children|little ones|toddlers)|"
        r"with (?:the |my |our )?(?:kids|children)|"
        r"for (?:the (?:whole )?|my |our )?family|with (?:the |my |our )?family",
        "Children",
    ),
    _genre(r"documentar(?:y|ies)|docu[- ]?series", "Documentary"),
    _genre(r"film[- ]noirs?|neo[- ]noirs?|noirs?", "Film-Noir"),
    _genre(r"war", "War"),
    _genre(r"westerns?|cowboys?", "Western"),
    _genre(r"musicals?", "Musical"),
    _genre(r"thrillers?", "Thriller"),
    _genre(r"crime|heists?|gangsters?|mafia|mobsters?", "Crime"),
    _genre(r"myster(?:y|ies)|whodunn?its?|detective (?:movies?|films?|stories)", "Mystery"),
    _genre(r"fantas(?:y|ies)", "Fantasy"),
    _genre(r"adventures?", "Adventure"),
    _genre(r"action", "Action"),
    _genre(r"dramas?", "Drama"),
    _genre(r"comed(?:y|ies)", "Comedy"),
    _genre(r"romances?|love stor(?:y|ies)", "Romance"),
    _genre(r"imax", "IMAX"),
    # Moods and occasions: soft boosts.
    _mood(
        r"scary|scare[sd]?|creepy|spooky|terrifying|frightening|chilling|haunting|nightmares?",
        ("Horror",),
        ("scary", "creepy", "suspense"),
    ),
    _mood(
        r"funny|hilarious|laughs?|laugh out loud|silly|goofy|witty|comedic",
        ("Comedy",),
        ("funny", "hilarious", "witty"),
    ),
    _mood(r"romantic|swoon\w*", ("Romance",), ("romantic", "love")),
    _mood(
        r"feel[- ]?good|uplifting|heart[- ]?warming|wholesome|cheerful|optimistic|hopeful|happy",
        ("Comedy",),
        ("feel-good", "uplifting", "heartwarming"),
    ),
    _mood(
        r"improve (?:my|our|the) mood|(?:boost|lift|lighten|brighten) (?:my|our|the) "
        r"(?:mood|spirits|day)|cheer (?:me|us) up|make (?:me|us) (?:happy|smile|laugh)|"
        r"bad day|(?:i'm|i am|im|feeling|feel) (?:so |really |a bit )?"
        r"(?:sad|down|low|blue|depressed|stressed)",
        ("Comedy",),
        ("feel-good", "uplifting", "funny", "heartwarming"),
    ),
    _mood(
        r"bored|boring (?:day|evening|night|afternoon|weekend)|nothing to do",
        ("Comedy", "Adventure"),
        ("fun", "entertaining", "exciting"),
    ),
    _mood(
        r"date night|on a date|for a date|with my (?:girlfriend|boyfriend|partner|wife|husband|"
        r"date|crush)|valentine'?s?",
        ("Romance", "Comedy"),
        ("romantic", "charming", "sweet"),
    ),
    _mood(
        r"(?:with|for) (?:my |some |a few |the |our )?(?:friends|mates|buddies|pals|gang|group)|"
        r"friends (?:are )?(?:coming|come) over|chill(?:ing)?|hang(?:ing)? out|movie night|"
        r"part(?:y|ies)|celebrat(?:e|ion)",
        ("Comedy",),
        ("fun", "entertaining", "crowd-pleaser"),
    ),
    _mood(
        r"mind[- ]?(?:bending|blowing|benders?)|plot twists?|twists?|twisty|trippy|surreal|"
        r"cerebral|thought[- ]provoking|makes? (?:me|you) think|puzzles?|puzzling",
        ("Sci-Fi", "Thriller", "Mystery"),
        ("mind-bending", "twist ending", "surreal", "thought-provoking"),
    ),
    _mood(r"dark|gritty|grim|bleak|disturbing|brutal", (), ("dark", "gritty", "bleak")),
    _mood(
        r"tear[- ]?jerkers?|make me cry|emotional|moving|heartbreaking|touching|"
        r"sad (?:movies?|films?|stories)",
        ("Drama",),
        ("emotional", "tearjerker", "touching"),
    ),
    _mood(
        r"relax(?:ing)?|cozy|cosy|comfort (?:movies?|films?|watch)|easy[- ]going|"
        r"light[- ]?hearted|easy watch|lazy",
        ("Comedy",),
        ("light-hearted", "cozy", "feel-good"),
    ),
    _mood(
        r"inspir(?:ing|ational)|motivat(?:ing|ional)|underdogs?",
        ("Drama",),
        ("inspiring", "underdog"),
    ),
    _mood(
        r"true stor(?:y|ies)|based on (?:a )?true|real events|biopics?",
        ("Drama",),
        ("true story", "biography"),
    ),
    _mood(r"superhero(?:es)?|comic[- ]book", ("Action", "Adventure"), ("superhero", "comic book")),
    _mood(r"epic|sweeping", ("Adventure",), ("epic",)),
    _mood(
        r"classics?|old|older|oldies|vintage|golden age|old[- ]school|black and white|timeless",
        (),
        ("classic",),
    ),
)

_COMPILED = [
    (re.compile(rf"(?<![\w'])(?:{row.pattern})(?!\w)", re.IGNORECASE), row) for row in VOCABULARY
]

# Words that carry no title and no constraint on their own ("movies like this").
_FILLER = frozenset((
    "a", "an", "the", "movie", "movies", "film", "films", "flick", "flicks", "something",
    "anything", "stuff", "one", "ones", "some", "any", "that", "this", "it", "its", "them",
    "these", "those", "him", "her", "us", "me", "you", "like", "kind", "kinds", "sort",
    "sorts", "type", "types", "of", "and", "or", "with", "good", "great", "nice", "really",
    "very", "more", "other", "others", "lot", "lots", "too", "so", "to", "watch", "see", "in",
    "on", "for", "all", "genre", "genres", "story", "stories", "i", "we", "my", "our", "just",
    "please", "similar",
))  # fmt: skip
# Words of asking that name no topic ("recommend me some good war movies from the 80s").
_ASKING = frozenset((
    "recommend", "suggest", "show", "give", "want", "need", "me", "from", "best", "top",
    "rated", "popular", "well-known", "known", "can", "could", "you", "would", "please",
    "some", "good", "great", "looking", "for", "any", "what", "are", "is", "there",
    "before", "after", "since", "until", "between", "during", "made", "released", "year",
    "decade", "era", "old", "new", "recent", "classic", "classics",
))  # fmt: skip
# Genre words that also name a topic ("heist movies" is about heists, not just crime).
_TOPICAL = frozenset((
    "heist", "heists", "gangster", "gangsters", "mafia", "mobster", "mobsters", "cowboy",
    "cowboys", "whodunit", "whodunnit", "whodunits", "detective", "anime", "cartoon",
    "cartoons", "noir", "imax", "documentary", "documentaries",
))  # fmt: skip
# A fuzzy or prefix match on a fragment that ends like this is a cut-off phrase, not a title.
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "and", "or", "but", "with", "in", "on", "at", "to", "for", "from",
    "by", "as", "is", "was", "than", "like",
))  # fmt: skip

# ------------------------------------------------------------------------- negation

_NEGATOR = (
    r"(?:\bno\b|\bnot\b|\bwithout\b|\bnothing\b(?!\s+but)|\bexcept\b|\bexcluding\b|\bavoid\b|"
    r"\bhate\b|\bnever\b|\bnone\b|\banything but\b|\brather than\b|\binstead of\b|"
    r"\bother than\b|\bdon'?t\b|\bdo not\b|\bdoesn'?t\b|\bisn'?t\b|\baren'?t\b|\bwon'?t\b|"
    r"\bdislike\b|\bsick of\b|\btired of\b|\bskip\b)"
)
_NEG_FILLER = (
    r"(?:a|an|any|the|too|so|very|really|more|of|want|wanna|like|need|to|see|watch|watching|"
    r"much|overly|in|it|be|something|anything|stuff|into|fan|big|huge|mood|for|some|that|"
    r"particularly|feeling|feel|interested|up|at|all|kind|type|sort|i'm|im|am|gory)"
)
_NEGATED_BEFORE = re.compile(rf"{_NEGATOR}(?:\s+{_NEG_FILLER}){{0,6}}\s*$", re.IGNORECASE)
# A negation and its six filler words fit in this many characters before the phrase.
_NEGATION_WINDOW = 160
_LIST_GAP = re.compile(r"^\s*(?:,\s*(?:or|and|nor)?|or|nor|and|/)\s*(?:(?:any|more)\s+)?$")

# ------------------------------------------------------------------------- follow-ups

_ORDINALS = {
    "first": 0, "1st": 0, "top": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2,
    "fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "seventh": 6,
    "7th": 6, "eighth": 7, "8th": 7, "ninth": 8, "9th": 8, "tenth": 9, "10th": 9,
    "last": -1, "final": -1,
}  # fmt: skip
_POSITION = re.compile(
    r"\b(?:the\s+|that\s+|this\s+)?(?P<ord>"
    + "|".join(_ORDINALS)
    + r")\s+(?:one|movie|film|pick|suggestion|recommendation|title|option|result)s?\b"
    r"|(?<!the )(?:#\s?|\bnumber\s+|\bno\.\s?)(?P<num>\d{1,2})\b",
    re.IGNORECASE,
)
_LIKE_BEFORE = re.compile(
    r"(?:\b(?:more|something|anything|movies?|films?|ones?|stuff|others?)\s+)?"
    r"(?:\blike|\bsimilar\s+to|\bliked|\bloved|\benjoyed|\bmore\s+of|\bcloser\s+to|"
    r"\bin\s+the\s+vein\s+of|\balong\s+the\s+lines\s+of)\s*$",
    re.IGNORECASE,
)
_LIGHTER = re.compile(
    r"\b(?:lighter|less (?:dark|heavy|serious|intense|depressing|sad|violent|scary|grim|bleak)|"
    r"more (?:light[- ]?hearted|cheerful|upbeat|fun|uplifting)|happier|funnier|cheerier|"
    r"not (?:so|as|that|too) (?:dark|heavy|serious|depressing|sad|intense|grim)|"
    r"lighten (?:it|things) up)\b",
    re.IGNORECASE,
)
_DARKER = re.compile(
    r"\b(?:darker|grittier|bleaker|creepier|scarier|heavier|edgier|"
    r"more (?:serious|intense|disturbing|dark|gritty|mature|violent)|"
    r"less (?:light|cheerful|happy|silly|goofy|fluffy))\b",
    re.IGNORECASE,
)
_MORE = re.compile(
    r"\b(?:show|give|get|suggest|recommend|tell|got|have|any)\s+(?:me\s+|us\s+)?"
    r"(?:some\s+|a\s+few\s+)?(?:more|others|other\s+ones|different\s+ones|"
    r"something\s+else|anything\s+else)\b"
    r"|\bmore\s+(?:options|suggestions|recommendations|picks|ideas|titles|please)\b"
    r"|\bmore\s+(?:of\s+|like\s+)?(?:these|those|them|that|this)\b"
    r"|\b(?:something|anything)\s+else\b|\bother\s+(?:ones|options|suggestions|picks)\b"
    r"|\bnext\s+(?:ones|few|batch)\b|^\s*(?:more|others|next)\s*[.!?]*\s*$",
    re.IGNORECASE,
)
_LIGHTER_ROW = _mood("", ("Comedy",), ("light-hearted", "feel-good", "funny"))
_DARKER_ROW = _mood("", (), ("dark", "gritty", "intense"))

# ------------------------------------------------------------------------- seeds

# "Like X": X may be written any way, and is kept as seed_text even when unresolved.
_LIKE_CUE = re.compile(
    r"\b(?:movies?|films?|flicks?|something|anything|stuff|ones?|things?|titles?|shows?|else|"
    r"more|others?|picks?)\s+(?:(?:just|a\s+bit|kind\s+of|sort\s+of|a\s+little|a\s+lot|more)\s+)?"
    r"(?:like|similar\s+to|resembling)\s+"
    r"|\b(?:is|are|was|were|that'?s|that\s+is)\s+(?:(?:just|a\s+bit|kind\s+of|sort\s+of)\s+)?"
    r"(?:like|similar\s+to)\s+"
    r"|\bsimilar\s+to\s+|\bin\s+the\s+(?:vein|style|spirit|mould|mold)\s+of\s+"
    r"|\balong\s+the\s+lines\s+of\s+|\breminiscent\s+of\s+"
    r"|\b(?:same|similar)\s+(?:vibes?|feel|style|mood|tone)\s+(?:as|to)\s+"
    r"|\b(?:comparable|akin)\s+to\s+|\bsuch\s+as\s+|(?:^|[,;:(]\s*)like\s+",
    re.IGNORECASE,
)
# "I loved X": X may be anything ("her performance"), so an unresolved X must look like a title.
_LIKED_CUE = re.compile(
    r"\b(?:liked|loved|enjoyed|adored|dug)\s+|\bfans?\s+of\s+"
    r"|\bif\s+(?:i|you|we)\s+(?:liked|loved|enjoyed|like|love|enjoy)\s+",
    re.IGNORECASE,
)
# Any other "like" ("scary movies from the 90s like Scream") unless it is the verb.
_BARE_LIKE = re.compile(r"\blike\s+", re.IGNORECASE)
_VERB_BEFORE_LIKE = re.compile(
    r"(?:\b(?:i|we|you|they|he|she|who|would|do|does|did|don't|doesn't|didn't|really|also|"
    r"just|still|feel|feels|felt|look|looks|sound|sounds|seem|seems|people|kids)|'d)\s*$",
    re.IGNORECASE,
)
_WEAK_CUE = re.compile(
    r"\b(?:i|we)\s+(?:really\s+|absolutely\s+|just\s+|also\s+)?(?:like|love|enjoy|adore)\s+",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"([^\"]{1,80})\"|(?<!\w)'([^']{1,80})'(?!\w)")
_SEED_END = re.compile(
    r"(?<!\bmr)(?<!\bmrs)(?<!\bdr)(?<!\bst)(?<!\bvs)\.(?=\s|$)|[!?;\n]|\s[-–—]\s|—"
    r"|\b(?:can|could|would|will)\s+you\b|\bwhat\s+(?:else|should|would|do|are|is|can)\b"
    r"|\bplease\b|\b(?:any|some)\s+(?:ideas|suggestions|recommendations)\b"
    r"|\b(?:suggest|recommend)\b|\bi\s+(?:want|need|would|am)\b|\bi'm\b|\banything\s+else\b",
    re.IGNORECASE,
)
_SEED_STOP = frozenset((
    "with", "from", "by", "starring", "featuring", "but", "and", "or", "that", "which", "in",
    "for", "set", "about", "except", "without", "rated", "directed", "released", "made",
    "where", "when", "because", "if", "though", "than",
))  # fmt: skip
# A title named elsewhere in the query is the seed when the query asks for similar movies.
_SIMILAR = re.compile(
    r"\b(?:similar|alike|the\s+same|like\s+(?:it|that|this|them))\b", re.IGNORECASE
)
_YEAR_AFTER = re.compile(r"^\s*[(\[]?\s*((?:19|20)\d{2})\s*[)\]]?")
_MAX_SEED_WORDS = 8
_MAX_CUES = 16
#: How much of one message the parser reads: no movie request is longer, and a longer text
#: (pasted or hostile) costs no more to read than this.
MAX_QUERY_CHARS = 1500
_YEAR_SUFFIX = re.compile(r"\s*[(\[]?\s*(?:19|20)\d{2}\s*[)\]]?\s*$")
_TRAILING_ARTICLE = re.compile(
    r"^(?P<body>.+?),\s*(?P<article>the|a|an)(?P<year>\s*[(\[]?\s*(?:19|20)\d{2}\s*[)\]]?)?\s*$",
    re.IGNORECASE,
)

# ------------------------------------------------------------------------- years

_Y = r"(?:18[89]\d|19\d\d|20[0-3]\d)"
_WORD_DECADES = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
    "seventies": 1970, "eighties": 1980, "nineties": 1990, "noughties": 2000,
    "aughts": 2000, "two thousands": 2000,
}  # fmt: skip
_PERIOD = (
    r"(?:(?:early|mid|late)[- ]?)?(?:the\s+)?"
    r"(?:['’]?(?:18|19|20)?\d0['’]?s\b|(?:" + "|".join(_WORD_DECADES) + r")\b|" + _Y + r"\b)"
)
_P = rf"(?<![\w.]){_PERIOD}"
_RANGE = re.compile(
    rf"\bbetween\s+(?P<a>{_P})\s+and\s+(?P<b>{_P})"
    rf"|\bfrom\s+(?P<c>{_P})\s+(?:to|till|until|through|thru)\s+(?P<d>{_P})"
    rf"|(?<![\w.])(?P<e>{_Y})\s*(?:-|–|—|to)\s*(?P<f>{_Y})(?![\w.])",
    re.IGNORECASE,
)
_BOUND = re.compile(
    r"\b(?P<op>after|since|from|post|newer\s+than|later\s+than|before|until|till|up\s+to|"
    r"through|prior\s+to|pre|older\s+than|earlier\s+than|in|of|during|circa|around|"
    rf"released\s+in|made\s+in)[- ]?\s*(?:the\s+year\s+)?(?P<p>{_P})",
    re.IGNORECASE,
)
_BARE_PERIOD = re.compile(_P, re.IGNORECASE)
_TITLE_YEAR = re.compile(rf"[(\[]\s*{_Y}\s*[)\]]")
_RECENT = re.compile(
    r"\b(?:recent(?:ly)?(?:\s+released)?|new(?:er|est)?\s+(?:movies?|films?|releases?|stuff)|"
    r"newer|newest|latest|new\s+ones)\b",
    re.IGNORECASE,
)

# ------------------------------------------------------------------------- ratings

_NUM = r"(?P<num>\d{1,3}(?:\.\d+)?)"
_SCALE = (
    r"(?P<scale>\s*/\s*10|\s*/\s*5|\s*/\s*100|\s*out\s+of\s+(?:10|ten|5|five|100)|\s*stars?|\s*%)"
)
_OP = (
    r"(?:above|over|at\s+least|more\s+than|greater\s+than|higher\s+than|better\s+than|"
    r"no\s+less\s+than|minimum(?:\s+of)?|min\.?|>=?|≥|of\s+at\s+least|north\s+of|of)"
)
_PLUS = r"(?P<plus>\s*\+|\s+or\s+(?:more|higher|above|better|up)|\s+and\s+(?:up|above|higher|over))"
_RATING = [
    re.compile(
        r"\b(?:rated|rating|ratings|rate|scored?|scores?|imdb(?:\s+(?:rating|score))?)\s+"
        rf"(?:is\s+|of\s+)?(?:{_OP}\s*)?{_NUM}{_SCALE}?{_PLUS}?",
        re.IGNORECASE,
    ),
    re.compile(rf"(?<![\w.]){_NUM}{_SCALE}?{_PLUS}\s*(?:on\s+|in\s+)?(?:imdb|rating|stars?)", re.I),
    re.compile(rf"(?<![\w.]){_NUM}{_SCALE}{_PLUS}", re.IGNORECASE),
    re.compile(rf"\b{_OP}\s*{_NUM}{_SCALE}", re.IGNORECASE),
    re.compile(r"(?<![\w.])(?P<num>[1-5](?:\.5)?)[- ](?P<scale>stars?)\b", re.IGNORECASE),
]

_BEST = re.compile(
    r"\b(?:best|top[- ]rated|top(?!\s+of\b)|highest[- ]rated|high(?:ly)?[- ]rated|well[- ]rated|"
    r"(?:critically[- ])?acclaimed|masterpieces?|greatest|must[- ](?:see|watch)|"
    r"award[- ]winning|oscar[- ]winning|finest|top[- ]notch|all[- ]time\s+greats?)\b",
    re.IGNORECASE,
)

# ------------------------------------------------------------------------- people

_DIRECTOR_CUES = ("directed by", "direction of", "by", "from")
_SURNAME_CUE = re.compile(
    r"(?i:\b(?P<cue>directed\s+by|direction\s+of|starring|featuring|with|by|from)\s+)"
    r"(?P<name>[A-Za-z][\w'-]+)"
)
_SURNAME_BEFORE_MOVIES = re.compile(
    r"\b(?P<name>[A-Z][\w-]+?)(?:'s)?\s+(?i:movies?|films?|flicks?)\b"
)
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})

# ------------------------------------------------------------------------- topic

# "movies about dinosaurs": the subject softly boosts movies that mention it.
_TOPIC = re.compile(
    r"\b(?:movies?|films?|flicks?|something|anything|one|documentar(?:y|ies)|stor(?:y|ies))\s+"
    r"about\s+(?P<topic>[a-z][a-z' -]{2,40}?)"
    r"(?=\s*(?:[.,!?;]|$|\b(?:from|with|in|that|which|for|and|but|or|rated|starring|"
    r"directed|released|set|please)\b))",
    re.IGNORECASE,
)

_REQUEST_WORDS = re.compile(
    r"\b(?:recommend\w*|suggest\w*|tonight|weekend|something|anything|see|show\s+me|"
    r"what\s+should\s+i)\b",
    re.IGNORECASE,
)
_CAPITALISED_RUN = re.compile(
    r"(?:[A-Z0-9][\w'’:-]*)(?:\s+(?:(?:of|the|a|an|and|in|on|to|for)\s+)*[A-Z0-9][\w'’:-]*)*"
)


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

    def before(self, start: int) -> str:
        """The masked text just before ``start``: enough to hold a negation and its filler."""
        return _window_before(self._chars, start)

    def negated(self, start: int) -> bool:
        return _NEGATED_BEFORE.search(self.before(start)) is not None

    def boost(self, row: VocabularyRow) -> None:
        self.boost_terms.extend(row.terms)
        self.boost_genres.extend(row.genres)


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
        for movie_id in catalogue.ids():
            movie = catalogue.movie(movie_id)
            year = movie.get("year")
            if year is not None and (newest is None or year > newest):
                newest = year
            for slot, column in ((0, "directors"), (1, "cast")):
                for name in movie.get(column) or ():
                    surname = _surname(name)
                    if surname:
                        surnames[surname][" ".join(name.split())][slot] += 1
        self._surnames = {
            key: {n: (c[0], c[1]) for n, c in v.items()} for key, v in surnames.items()
        }
        self._newest_year = newest
        self._title_keys = {title_key(catalogue.movie(i)["title"]) for i in catalogue.ids()}

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
            with personal data redacted.
        """
        text = redact_pii(_head(query)).strip()
        work = _Work(_plain_quotes(text))
        history = list(history or ())
        follow_up = self._position_follow_up(work, history)
        seed, seed_text = self._seed(work)
        mentioned = self._mentioned_title(work)
        if seed is None and seed_text is None and _SIMILAR.search(work.masked):
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
                    movie_id
                    for person in excluded
                    for movie_id in self.catalogue.movies_with(person)
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
        )
        parsed.off_topic = self._off_topic(parsed, mentioned is not None, follow_up_words)
        logger.debug(
            "parsed query: filters=%s seed=%s follow_up=%s off_topic=%s",
            parsed.filters.model_dump(exclude_none=True),
            seed.title if seed else seed_text,
            parsed.follow_up,
            parsed.off_topic,
        )
        return parsed

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
                    work.mask(start, end)
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
            year_match = _YEAR_AFTER.match(work.masked[stop:end])
            year = int(year_match.group(1)) if year_match else None
            ref = self.catalogue.resolve_title(_article_first(candidate), year)
            if ref is None or (exact_only and ref.score < 100):
                continue
            if ref.score < 100 and (
                candidate.split()[-1].lower() in _FUNCTION_WORDS
                or self.catalogue.people_in(candidate)
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
        if recent:
            work.mask(*recent.span())
            if not periods and low is None and high is None and self._newest_year:
                low = self._newest_year - self.recent_years + 1
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
        return wanted, unwanted

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


def _spans_longest_first(count: int, *, shortest: int) -> list[tuple[int, int]]:
    """Inclusive ``(first, last)`` word spans of ``shortest`` to ``_MAX_SEED_WORDS`` words.

    Longest first; no title is longer than ``_MAX_SEED_WORDS`` words.
    """
    spans = [
        (i, j)
        for i in range(count)
        for j in range(i + shortest - 1, min(count, i + _MAX_SEED_WORDS))
    ]
    return sorted(spans, key=lambda span: span[0] - span[1])


def _head(query: str) -> str:
    """The first :data:`MAX_QUERY_CHARS` characters of a query, cut between words."""
    if len(query) <= MAX_QUERY_CHARS:
        return query
    cut = query.rfind(" ", MAX_QUERY_CHARS // 2, MAX_QUERY_CHARS)
    logger.debug("query of %d characters read up to character %d", len(query), cut)
    return query[: cut if cut > 0 else MAX_QUERY_CHARS]


def _window_before(chars: Sequence[str], start: int) -> str:
    """The :data:`_NEGATION_WINDOW` characters before ``start``, never starting mid-word."""
    low = max(0, start - _NEGATION_WINDOW)
    if low > 0 and not chars[low - 1].isspace():
        # Cut after the next space instead ("knot" must not read as "not").
        while low < start and not chars[low].isspace():
            low += 1
    return "".join(chars[low:start])


def _combine_genres(groups: list[list[str]], every: list[str]) -> tuple[list[str], list[str]]:
    """``(genres_any, genres_all)`` from genre words: together means all, apart means any."""
    compound = [group for group in groups if len(group) > 1]
    if every and not groups:
        return [], _unique(every)
    if len(groups) == 1 and compound and not every:
        return [], _unique(groups[0])
    # Mixed lists ("a rom-com or a horror") read as alternatives: the broader reading.
    return _unique([*every, *(g for group in groups for g in group)]), []


def _seed_cues(text: str) -> list[tuple[re.Pattern[str], re.Match[str]]]:
    """Where a seed title may follow, strongest cue first."""
    found = [
        (pattern, cue) for pattern in (_LIKE_CUE, _LIKED_CUE) for cue in pattern.finditer(text)
    ]
    taken = {cue.end() for _, cue in found}
    for cue in _BARE_LIKE.finditer(text):
        # "like" as a verb ("I'd like", "feels like") introduces no title.
        if cue.end() not in taken and not _VERB_BEFORE_LIKE.search(
            _window_before(text, cue.start())
        ):
            found.append((_BARE_LIKE, cue))
    found.extend((_WEAK_CUE, cue) for cue in _WEAK_CUE.finditer(text))
    # A seed is named within the first few cues; trying every cue of a very long text
    # would cost a title lookup each.
    return found[:_MAX_CUES]


def _seed_end(text: str, start: int) -> int:
    # A title is at most _MAX_SEED_WORDS words: look no further than a few hundred characters.
    limit = min(len(text), start + 400)
    stop = _SEED_END.search(text, start, limit)
    return stop.start() if stop else limit


def _period(text: str) -> tuple[int, int] | None:
    """The years a written year or decade covers ("late 80s" → 1985-1989)."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    modifier = None
    for prefix in ("early", "mid", "late"):
        if lowered.startswith(prefix):
            modifier = prefix
            lowered = lowered[len(prefix) :].lstrip(" -")
    lowered = lowered.removeprefix("the ").strip()
    if lowered in _WORD_DECADES:
        start = _WORD_DECADES[lowered]
    elif re.fullmatch(_Y, lowered):
        return int(lowered), int(lowered)
    else:
        digits = re.sub(r"\D", "", lowered)
        if not digits:
            return None
        value = int(digits)
        if len(digits) == 2:
            # Two-digit decades: "00s" and "10s" are this century, "20s"-"90s" the last one.
            value += 2000 if value < 20 else 1900
        start = value
    if modifier == "early":
        return start, start + 3
    if modifier == "mid":
        return start + 3, start + 6
    if modifier == "late":
        return start + 6, start + 9
    return start, start + 9


def _rating_value(match: re.Match[str]) -> float | None:
    value = float(match.group("num"))
    scale = " ".join((match.groupdict().get("scale") or "").lower().split())
    if "%" in scale or "100" in scale:
        value /= 10
    elif "star" in scale or "5" in scale or "five" in scale:
        if value > 5:
            return None
        value *= 2
    elif value > 10:
        return None
    return round(value, 2)


def _surname(name: str) -> str | None:
    words = [w for w in name.split() if w.lower() not in _NAME_SUFFIXES]
    if len(words) < 2 or len(words[-1]) < 3:
        return None
    return words[-1].casefold()


def _last_recommendations(history: list[HistoryTurn]) -> list[int]:
    for turn in reversed(history):
        if turn.role == "assistant" and turn.recommendations:
            return turn.recommendations
    return []


def only_vocabulary(text: str) -> bool:
    """Whether the text is only genre/mood words, years and filler ("good 90s war movies").

    Args:
        text: Any text.

    Returns:
        True when no word of it names a topic, a title or a person.
    """
    words = re.sub(r"[^\w\s'-]", " ", _BARE_PERIOD.sub(" ", text)).split()
    if any(w.lower() in _TOPICAL for w in words):
        return False
    return _only_vocabulary(" ".join(w for w in words if w.lower() not in _ASKING))


def _only_vocabulary(text: str) -> bool:
    """Whether the text is only genre/mood words and filler ("horror movies", "this")."""
    rest = text.lower()
    for pattern, _ in _COMPILED:
        rest = pattern.sub(" ", rest)
    words = re.findall(r"[a-z0-9']+", rest)
    return all(word in _FILLER for word in words)


def _title_cased(text: str) -> bool:
    """Whether every significant word is capitalised ("Her", "The Family", not "this")."""
    words = re.findall(r"[^\W_][\w']*", text)
    significant = [w for w in words if w.lower() not in _FUNCTION_WORDS]
    return bool(significant) and all(w[0].isupper() or w[0].isdigit() for w in significant)


def _article_first(title: str) -> str:
    """Move a lower-case trailing article to the front (title_key only moves "The").

    ``"matrix, the (1999)"`` becomes ``"the matrix (1999)"``.
    """
    match = _TRAILING_ARTICLE.match(title)
    if not match:
        return title
    return f"{match.group('article')} {match.group('body')}{match.group('year') or ''}"


def _plain_quotes(text: str) -> str:
    # One character for one, so positions in the plain copy are positions in the original.
    return text.translate(str.maketrans("’‘“”", "''\"\""))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _content_words(text: str) -> list[str]:
    """The words of a query that could describe a movie (no stop words, no greetings)."""
    words = (w.lower() for w in re.findall(r"[A-Za-z][A-Za-z'-]+", text))
    return [w for w in words if w not in STOP_WORDS and w not in _GREETINGS]


_GREETINGS = frozenset(
    {
        *("hello", "hi", "hey", "hiya", "howdy", "thanks", "thank", "cheers", "bye", "goodbye"),
        *("ok", "okay", "yes", "yeah", "yep", "nope", "sure", "morning", "evening", "afternoon"),
        "there",
    }
)
