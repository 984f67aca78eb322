"""The genre and mood vocabulary of the query parser, in English, French, Spanish and German.

:data:`VOCABULARY` is the whole table: explicit genre nouns filter, mood adjectives and
occasions softly boost. :func:`only_vocabulary` says whether a text is only such words
(a title fragment made only of them is no title: "war movies" names no *War* film).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["VOCABULARY", "VocabularyRow"]


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
    # "Scary movies" is the genre, not the *Scary Movie* spoofs.
    _genre(
        r"horrors?|scary (?:movies?|films?|flicks?|ones?|stuff)|(?:something|anything) scary|"
        r"slashers?|"
        r"horreur|d'horreur|(?:films?|pel[ií]culas?) (?:d'|de )?(?:horreur|terror|miedo|"
        r"[ée]pouvante)|de (?:terror|miedo)|horrorfilme?|gruselfilme?",
        "Horror",
    ),
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
    _genre(r"war|guerre|guerra|kriegsfilme?|kriegs", "War"),
    # French, Spanish and German genre nouns (the English ones follow).
    _genre(r"ciencia[- ]ficci[oó]n|science[- ]fiction|sciencefiction|sf", "Sci-Fi"),
    _genre(r"dessins? anim[ée]s?|animaci[oó]n|zeichentrick(?:filme?)?|trickfilme?", "Animation"),
    _genre(r"documentaires?|documentales?|dokumentar(?:film)?(?:e|en)?|dokus?", "Documentary"),
    _genre(r"com[ée]dies?|comedias?|kom[öo]die(?:n)?", "Comedy"),
    _genre(r"drames?|dramen|dram[áa]ticas?", "Drama"),
    _genre(r"d'action|de acci[oó]n|actionfilme?|acci[oó]n", "Action"),
    _genre(r"aventures?|aventuras?|abenteuer(?:filme?)?", "Adventure"),
    _genre(r"policiers?|polic[ií]acas?|krimis?|kriminalfilme?", "Crime"),
    _genre(
        r"comédies? romantiques?|comedias? rom[aá]nticas?|liebeskom[öo]die(?:n)?",
        "Romance",
        "Comedy",
    ),
    _genre(r"films? romantiques|pel[ií]culas? rom[aá]nticas|liebesfilme?", "Romance"),
    _genre(r"fantastiques?|fant[aá]sticas?", "Fantasy"),
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
    # "Funny movies" are comedies, as "scary movies" are horror.
    _genre(r"funny (?:movies?|films?|flicks?|ones?|stuff)|(?:something|anything) funny", "Comedy"),
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
    _mood(r"romantics?|swoon\w*", ("Romance",), ("romantic", "love")),
    _mood(
        r"feel[- ]?good|uplifting|heart[- ]?warming|wholesome|cheerful|optimistic|hopeful|"
        # "Happy new year" is a greeting, not a mood.
        r"happy(?!\s+(?:new\s+year|holidays?|thanksgiving|easter|birthday|friday|monday|weekend))",
        ("Comedy",),
        ("feel-good", "uplifting", "heartwarming"),
    ),
    _mood(
        r"improve (?:my|our|the) mood|(?:boost|lift|lighten|brighten|pick up) (?:my|our|the) "
        r"(?:mood|spirits|day)|cheer (?:me|us) up|make (?:me|us) (?:happy|smile|laugh)|"
        r"bad day|(?:i'm|i am|im|feeling|feel) (?:so |really |a bit |a little |kind of |kinda )?"
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
    # Studios: the catalogue has no studio field; their films' keywords and tags name them.
    _mood(
        r"(?:studio\s+)?ghibli",
        ("Animation",),
        ("studio ghibli", "anime", "japanese animation"),
    ),
    _mood(r"pixar", ("Animation",), ("pixar", "pixar animation", "computer animation")),
    _mood(r"disney", ("Animation", "Children"), ("disney", "disney animated feature")),
    _mood(
        r"marvel(?:\s+(?:comics?|studios|cinematic\s+universe))?|mcu",
        ("Action",),
        ("marvel comic", "marvel cinematic universe", "superhero"),
    ),
    # Not "Washington DC".
    _mood(
        r"dc(?:\s+(?:comics?|movies?|films?|superhero(?:es)?|universe|extended\s+universe))|dceu",
        ("Action",),
        ("dc comics", "superhero"),
    ),
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
    # French, Spanish and German filler: a request in them names no title by these words.
    "je", "veux", "voudrais", "des", "un", "une", "le", "la", "les", "de", "du", "d", "films",
    "quiero", "una", "unos", "unas", "pelicula", "película", "peliculas", "películas", "los",
    "las", "del", "el", "ich", "möchte", "will", "einen", "eine", "filme", "den", "der",
    "die", "das", "bitte", "voir", "ver", "sehen", "bons", "bonnes", "buenas", "buenos",
    "gute", "guten", "gern", "gerne", "mir", "moi", "me", "années", "annees", "años", "anos",
    "jahre", "ern", "er", "et", "y", "und", "ou", "o", "oder", "pour", "para", "für",
    "avec", "con", "mit", "quelque", "chose", "algo", "etwas", "schauen", "regarder",
    "recommande", "recommander", "recomienda", "recomiéndame", "empfehlen", "empfiehl",
    "aus", "von", "vor", "nach", "seit", "avant", "après", "depuis", "antes", "después",
    "desde", "des", "bon", "bonne", "bueno", "buena", "gut", "un", "film", "s'il", "vous",
    "plaît", "plait", "por", "favor", "veo", "cherche", "busco", "suche",
))  # fmt: skip
# Words of asking that name no topic ("recommend me some good war movies from the 80s").
_ASKING = frozenset((
    "recommend", "suggest", "show", "give", "want", "need", "me", "from", "best", "top",
    "rated", "popular", "well-known", "known", "can", "could", "you", "would", "please",
    "some", "good", "great", "looking", "for", "any", "what", "are", "is", "there",
    "before", "after", "since", "until", "between", "during", "made", "released", "year",
    "decade", "era", "old", "new", "recent", "classic", "classics",
    # Conversational asking ("Hello, I love horror movies. Can you recommend some?").
    "enjoy", "enjoyed", "into", "looking", "watching", "suggestions",
    "suggestion", "recommendations", "recommendation", "ideas", "idea", "help", "maybe",
    "right", "now", "am", "i'm", "im", "mood", "feel", "feeling", "kind", "open", "tonight",
    "today", "thanks", "thank", "hi", "hello", "hey", "there", "do", "know", "have", "got",
    "u", "ur", "yes", "yeah", "sure", "ok", "okay", "also", "usually", "prefer", "fan",
    "big", "favorite", "favourite", "type", "mostly", "especially", "lately", "watched",
    "seen", "should", "will", "tell", "about", "something", "anything", "thing", "things",
    "few", "couple", "kinds", "all", "favorites", "favourites", "yours", "yourself", "ones",
    "options", "whats", "what's", "up", "as", "long", "its", "it's", "ever", "go", "weekend",
    "theater", "theatre", "cinema", "night", "watch", "tonight", "over", "next", "week",
    "searching", "search", "seeking", "seek", "find", "finding", "trying", "try", "wanted",
    "wanting", "wondering", "interested", "hoping", "hope", "thinking", "think", "wanna",
    "gonna", "looking", "look", "get", "rent", "stream", "streaming", "someone", "anyone",
    "happy", "current", "past", "matter", "matters", "doesn't", "doesnt", "don't", "dont",
    "mind", "either", "whatever", "familiar", "if", "not", "too", "also", "well", "fine",
    "just", "about", "honestly", "anymore", "lately", "recently", "suggest",
    # Adverbs and contractions of chat ("I'd like a good comedy", "Comedy mainly").
    "actually", "basically", "probably", "definitely", "mainly", "mostly", "really", "quite",
    "bit", "even", "much", "super", "pretty", "kinda", "i'd", "you'd", "we'd", "i'll",
    "i've", "we've", "saw", "thought", "haha", "lol", "alright", "alrighty", "sounds",
    "recommendations", "recommended", "suggestions", "suggested", "list", "discover",
    "quality", "that's", "thats", "lets", "let's",
    # Leaving the choice to us ("surprise me", "I can't decide").
    "surprise", "decide", "undecided", "dunno", "can't", "cant", "sure", "unsure", "choose",
    "pick",
))  # fmt: skip
# Genre words that also name a topic ("heist movies" is about heists, not just crime).
_TOPICAL = frozenset((
    "heist", "heists", "gangster", "gangsters", "mafia", "mobster", "mobsters", "cowboy",
    "cowboys", "whodunit", "whodunnit", "whodunits", "detective", "anime", "cartoon",
    "cartoons", "noir", "imax",
))  # fmt: skip
# A fuzzy or prefix match on a fragment that ends like this is a cut-off phrase, not a title.
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "of", "and", "or", "but", "with", "in", "on", "at", "to", "for", "from",
    "by", "as", "is", "was", "than", "like",
))  # fmt: skip


def _only_vocabulary(text: str, filler: Callable[[str], bool] = _FILLER.__contains__) -> bool:
    """Whether the text is only genre/mood words and filler ("horror movies", "this").

    Genre and mood phrases are read first, then every other word must be ``filler``.
    """
    rest = text.lower()
    for pattern, _ in _COMPILED:
        rest = pattern.sub(" ", rest)
    words = re.findall(r"[a-z0-9']+", rest)
    return all(filler(word) for word in words)


def runs_into_vocabulary(text: str, start: int, end: int) -> bool:
    """Whether a genre or mood phrase begins inside ``text[start:end]`` and goes on past it.

    Such words are the start of the phrase ("love" of "love stories"), not a title of
    their own.
    """
    return any(
        start <= m.start() < end < m.end()
        for pattern, _ in _COMPILED
        for m in pattern.finditer(text, start)
    )


def _title_cased(text: str) -> bool:
    """Whether every significant word is capitalised ("Her", "The Family", not "this")."""
    words = re.findall(r"[^\W_][\w']*", text)
    significant = [w for w in words if w.lower() not in _FUNCTION_WORDS]
    return bool(significant) and all(w[0].isupper() or w[0].isdigit() for w in significant)


# The genre and mood words a typo is read back to ("comdey" -> comedy, "familly" -> family);
# tests/chain/test_query.py holds each to a word the vocabulary reads.
_SPELLED = frozenset((
    "comedy", "comedies", "horror", "horrors", "family", "thriller", "thrillers", "romance",
    "romances", "romantic", "drama", "dramas", "action", "adventure", "adventures",
    "animated", "animation", "cartoon", "cartoons", "documentary", "documentaries",
    "mystery", "mysteries", "fantasy", "musical", "musicals", "western", "westerns",
    "children", "scary", "funny", "hilarious", "suspense", "suspenseful", "thrilling",
    "creepy", "spooky", "romcom", "superhero", "superheroes", "gangster", "gangsters",
    "detective", "classic", "classics", "inspiring", "emotional", "uplifting", "feelgood",
    "heartwarming", "mafia", "slasher", "slashers", "crime",
))  # fmt: skip


class VocabularySpeller:
    """Reads a misspelt genre or mood word as the word meant ("a horor movie" asks for horror).

    A word is corrected only when no movie is described with it (it is not in ``known``) and
    exactly one vocabulary word with its first letter is one edit away (an insertion,
    deletion, substitution or swap of neighbours), so "might", "billy", "prime" or a name in
    the credits stay as written.

    Args:
        known: The words movies are described in (titles, overviews, names), lower case.
    """

    def __init__(self, known: frozenset[str]) -> None:
        self._known = known

    def __call__(self, text: str) -> str:
        """The text with its misspelt genre and mood words corrected."""
        return re.sub(r"[^\W\d_]{5,}", self._corrected, text)

    def _corrected(self, match: re.Match[str]) -> str:
        word = match.group()
        lowered = word.lower()
        if lowered in self._known or lowered in _SPELLED:
            return word
        from rapidfuzz.distance import DamerauLevenshtein

        # Typos seldom touch the first letter: "prime" is no "crime", "bunny" no "funny".
        close = [
            w
            for w in _SPELLED
            if w[0] == lowered[0] and DamerauLevenshtein.distance(lowered, w, score_cutoff=1) <= 1
        ]
        return close[0] if len(close) == 1 else word
