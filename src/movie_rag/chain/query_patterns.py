"""The patterns the query parser reads: negations, follow-ups, seed cues, years, ratings.

Also the text helpers they need: a message cut to :data:`MAX_QUERY_CHARS`, the window a
negation is looked for in, typographic quotes made plain, a trailing article moved front.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

from movie_rag.chain.text import STOP_WORDS
from movie_rag.chain.vocabulary import _ASKING, _FILLER, _TOPICAL, _mood, _only_vocabulary

logger = logging.getLogger("movie_rag")

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
    r"released\s+in|made\s+in|"
    # French, Spanish, German: avant/antes de/vor, après/después de/nach, depuis/desde/seit.
    r"avant|antes\s+de|vor|apr[èe]s|despu[ée]s\s+de|nach|depuis|desde|seit|en|im\s+jahr)"
    rf"[- ]?\s*(?:the\s+year\s+)?(?P<p>{_P})",
    re.IGNORECASE,
)
_BARE_PERIOD = re.compile(_P, re.IGNORECASE)
#: "des années 80", "los años 90", "de los 80", "aus den 80ern", "80er Jahre": a decade.
_FOREIGN_DECADE = re.compile(
    r"\b(?:(?:des\s+|les\s+)?ann[ée]es|(?:de\s+)?los(?:\s+a[ñn]os)?|a[ñn]os|"
    r"(?:aus\s+)?(?:den|der|die))\s+(?:19)?(?P<d>[1-9]0)(?:er|s)?n?(?:\s+jahren?)?\b"
    r"|\b(?:19)?(?P<e>[1-9]0)er(?:n|\s+jahren?)?\b",
    re.IGNORECASE,
)
_I_LIKE = re.compile(r"\b(?:i|we)\s+(?:really\s+|just\s+)?(?:love|like|enjoy|adore)\b", re.I)
#: Operators of other languages, as the English one they mean.
FOREIGN_OPS = {
    "avant": "before", "antes de": "before", "vor": "before", "après": "after",
    "apres": "after", "después de": "after", "despues de": "after", "nach": "after",
    "depuis": "since", "desde": "since", "seit": "since", "en": "in", "im jahr": "in",
}  # fmt: skip
_TITLE_YEAR = re.compile(rf"[(\[]\s*{_Y}\s*[)\]]")
_RECENT = re.compile(
    # "I recently saw X", "Recently seen X and loved it": when they watched, not what.
    r"\b(?:(?<!\bi\s)(?<!\bwe\s)(?<!i've\s)(?<!have\s)recent(?:ly)?"
    r"(?!\s+(?:seen|saw|watched|re-?watched|went|finished|discovered))(?:\s+released)?|"
    r"new(?:er|est)?\s+(?:movies?|films?|releases?|stuff)|newer|newest|latest|new\s+ones|"
    r"r[ée]cents?|recientes?|nuevas?|neue(?:re|ste)?n?|"
    # What is showing now ("still in theaters", "what's in the theater now", "current
    # movies"), not where a film was once seen ("I saw it twice in the theater").
    r"(?:still|now|currently|showing|playing|what'?s|what\s+is|something)\s+in\s+(?:the\s+)?"
    r"(?:theat(?:er|re)s?|cinemas?)|in\s+(?:the\s+)?(?:theat(?:er|re)s?|cinemas?)\s+"
    r"(?:now|right\s+now|currently)|current\s+(?:movies?|films?|releases?)|"
    # "good films that are out now", "something that just came out".
    r"(?:out|released)\s+(?:right\s+)?now|now\s+(?:out|showing|playing)|"
    r"just\s+(?:came\s+out(?!\s+of)|been\s+released|released|out(?!\s+of)))\b",
    re.IGNORECASE,
)
#: "within the last year", "from the past few years": the catalogue's newest ``years``.
_LAST_YEARS = re.compile(
    r"\b(?:within|in|from|over|during|of)\s+the\s+(?:last|past)\s+"
    r"(?:(?P<n>\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|few|couple(?:\s+of)?)\s+)?"
    r"years?\b",
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
    r"what\s+should\s+i|looking\s*for\w*|recommendations?|suggestions?|ideas|watch\w*|"
    # Not knowing what to want is asking to be told ("I'm not sure what I want").
    r"surprise\s+me|undecided|(?:not\s+sure|no\s+idea|dunno|(?:don'?t|do\s+not)\s+know|"
    r"can'?t\s+decide)(?:\s+what\s+(?:i\s+want|to\s+(?:watch|see|pick|choose)))?\s*[.!?]*$)",
    re.IGNORECASE,
)
_CAPITALISED_RUN = re.compile(
    r"(?:[A-Z0-9][\w'’:-]*)(?:\s+(?:(?:of|the|a|an|and|in|on|to|for)\s+)*[A-Z0-9][\w'’:-]*)*"
)


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


def only_vocabulary(text: str) -> bool:
    """Whether the text is only genre/mood words, years and filler ("good 90s war movies").

    Years include the recent ones ("still in theaters", "within the last year").

    Asking words, plain function words and their common misspellings ("reccomend") name no
    topic either; genre and mood phrases are read before they are dropped ("movies for my
    kids" keeps its "for my").

    Args:
        text: Any text.

    Returns:
        True when no word of it names a topic, a title or a person.
    """
    text = _FOREIGN_DECADE.sub(" ", _BARE_PERIOD.sub(" ", text))
    text = _LAST_YEARS.sub(" ", _RECENT.sub(" ", text))
    text = _I_LIKE.sub(" ", text)
    text = re.sub(r"[^\w\s'-]", " ", text)
    if any(w.lower() in _TOPICAL for w in text.split()):
        return False
    return _only_vocabulary(text, _asking_word)


def _asking_word(word: str) -> bool:
    word = word.removesuffix("'s")  # "sci-fi's"
    if not word.strip("'") or any(
        word in words for words in (_FILLER, _ASKING, STOP_WORDS, CHIT_CHAT_WORDS)
    ):
        return True
    if len(word) < 6:
        return False
    from rapidfuzz import fuzz, process

    # "reccomend", "suggestons": a typo of an asking word is still one.
    return process.extractOne(word, _LONG_ASKING, scorer=fuzz.ratio, score_cutoff=85) is not None


_LONG_ASKING = sorted(w for w in _ASKING | _FILLER if len(w) >= 6)

_CAPITALISED_WORD = re.compile(r"(?<![\w'])[A-Z][a-z]+(?:-[A-Z][a-z]+)?(?![\w'])")

#: Words of greetings and small talk ("hi", "how are u", "im good thanks fo asking").
CHIT_CHAT_WORDS = frozenset((
    "hi", "hello", "hey", "hiya", "howdy", "yo", "greetings", "hallo", "bonjour", "salut",
    "hola", "how", "are", "r", "u", "you", "ya", "doing", "today", "tonight", "good", "great",
    "fine", "well", "ok", "okay", "thanks", "thank", "thx", "ty", "fo", "for", "asking", "im",
    "i'm", "i", "am", "and", "yourself", "too", "nice", "to", "meet", "chat", "talk", "morning",
    "evening", "afternoon", "there", "what's", "whats", "up", "sup", "not", "bad", "pretty",
    "thanks!", "cool", "awesome", "yes", "yeah", "yep", "sure", "alright", "all", "right",
    "hru", "wbu", "hbu", "lol", "haha", "so", "doin", "going", "it", "is", "how's", "hows",
    "whadup", "wassup", "whatsup", "hope", "hoping",
    "your", "day", "been", "very", "much", "a", "lot", "the", "same", "me", "myself", "oh",
    "bye", "goodbye", "cheers", "welcome", "glad", "happy", "here", "as", "always",
    "please", "do", "of", "course", "that", "would", "be", "sounds", "hello!", "no", "problem",
    "we", "go", "let's", "lets", "ready", "start", "thank-you", "thankyou", "hiii", "hii",
))  # fmt: skip
_CHIT_CHAT_SENTENCE = re.compile(r"[^.!?,;\n]+[.!?,;\n]*")
# Season's greetings are small talk ("Merry Christmas, any good musicals?" asks for musicals).
_HOLIDAY_GREETING = re.compile(
    r"\b(?:merry\s+(?:christmas|xmas)|happy\s+(?:holidays?|new\s+year|thanksgiving|easter|"
    r"hanukkah|halloween)|season'?s\s+greetings)\b",
    re.IGNORECASE,
)
_SERVICE = (
    r"(?:netflix|hulu|hbo(?:\s+max)?|amazon(?:\s+prime)?(?:\s+video)?|prime(?:\s+video)?|"
    r"disney\s*(?:\+|plus)|redbox|apple\s+tv\+?|peacock|paramount\s*\+)"
)
#: Where the seeker will watch ("on netflix or prime"): the catalogue has no streaming data,
#: and the service's name is no title word ("Prime", "The Prime Gig").
WHERE_TO_WATCH = re.compile(
    rf"\b(?:on|from|in|with|via)\s+{_SERVICE}(?:\s*(?:,|or|and|/)\s*{_SERVICE})*\b",
    re.IGNORECASE,
)


def is_chit_chat(text: str) -> bool:
    """Whether the text is only greetings and small talk ("hi", "im good thanks fo asking")."""
    words = re.findall(r"[a-z']+", _HOLIDAY_GREETING.sub(" hi ", text).lower())
    return bool(words) and all(w in CHIT_CHAT_WORDS for w in words)


def strip_chit_chat(text: str) -> str:
    """The text without its sentences of small talk ("Hi there! Any good comedies?")."""
    kept = [s for s in _CHIT_CHAT_SENTENCE.findall(text) if not is_chit_chat(s)]
    return "".join(kept) if kept else ("" if is_chit_chat(text) else text)
