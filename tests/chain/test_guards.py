"""Guards: personal data out of queries, internal data out of answers, off-topic requests."""

from __future__ import annotations

import json

import pytest

from movie_rag.chain.safety import (
    INTERNAL_FIELDS,
    POLITE_REFUSAL,
    SYSTEM_PROMPT_MARKERS,
    is_off_topic,
    markers_from_prompt,
    redact_pii,
    scrub_internal,
)

# (text, what it must become)
REDACTED = [
    ("mail me at jane.doe@example.org", "mail me at [email]"),
    ("Bob.Smith+movies@mail.co.uk likes horror", "[email] likes horror"),
    ("call +44 20 7946 0958 tonight", "call [phone] tonight"),
    ("my number: +1 (555) 123-4567.", "my number: [phone]."),
    ("(555) 123-4567", "[phone]"),
    ("555-123-4567 or 555.123.4567", "[phone] or [phone]"),
    ("text 555-1234", "text [phone]"),
    ("0044 20 7946 0958", "[phone]"),
    ("+33 1 23 45 67 89", "[phone]"),
    ("+49 30 1234567", "[phone]"),
    ("07700 900123", "[phone]"),
    ("ring 0612345678 please", "ring [phone] please"),
    ("+91-98765-43210", "[phone]"),
    ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27"),
    ("4111-1111-1111-1111", "[card]"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("5500005555555559", "[card]"),
    ("IBAN GB82 WEST 1234 5698 7654 32, thanks", "IBAN [iban], thanks"),
    ("DE89370400440532013000", "[iban]"),
    ("fr14 2004 1010 0505 0001 3m02 606", "[iban]"),
    ("SSN 123-45-6789", "SSN [ssn]"),
    ("ssn 123 45 6789", "ssn [ssn]"),
    ("from 192.168.1.10", "from [ip]"),
    ("server 2001:db8::8a2e:370:7334 down", "server [ip] down"),
    ("fe80::1", "[ip]"),
    (
        "I'm bob@example.com, call +44 20 7946 0958. Movies like Heat (1995)?",
        "I'm [email], call [phone]. Movies like Heat (1995)?",
    ),
]

# Numbers that are not personal data and must survive unchanged.
KEPT = [
    "movies from 1999",
    "rated 8.5 or higher",
    "142 min",
    "2001: A Space Odyssey",
    "Ocean's 11",
    "Apollo 13 (1995)",
    "between 1990 and 1995",
    "1990-1995 thrillers",
    "2000–2005",
    "movies from 1990 1995 2000 2005",
    "top 10 of 2019",
    "1,000,000 votes",
    "released 2004-05-12",
    "7.5/10 on imdb",
    "at 12:30:45",
    "Blade Runner 2049",
    "version 3.11 of the app",
    "the 90s and 80s",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED, ids=[t for t, _ in REDACTED])
def test_personal_data_is_redacted(text: str, expected: str) -> None:
    assert redact_pii(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert redact_pii(text) == text


@pytest.mark.parametrize(
    ("text", "not_labelled"),
    [
        ("4111 1111 1111 1112", "[card]"),  # fails the Luhn check
        ("GB82 WEST 1234 5698 7654 33", "[iban]"),  # fails mod-97
        ("000-12-3456", "[ssn]"),  # area 000 is never issued
        ("666-12-3456", "[ssn]"),
        ("999.1.1.1", "[ip]"),
    ],
)
def test_invalid_numbers_are_not_labelled_as_that_kind(text: str, not_labelled: str) -> None:
    assert not_labelled not in redact_pii(text)


def test_enough_pii_cases() -> None:
    assert len(REDACTED) + len(KEPT) >= 25
    assert len(KEPT) >= 10


def test_redaction_is_idempotent() -> None:
    once = redact_pii(" ".join(text for text, _ in REDACTED))
    assert redact_pii(once) == once


@pytest.mark.parametrize(
    ("text", "off_topic"),
    [
        ("what's the weather", True),
        ("write me a poem", True),
        ("How do I cook pasta?", True),
        ("translate this to French", True),
        ("a movie about cooking pasta", False),
        ("a film about the weather", False),
        ("horror please", False),
        ("hello", False),  # nothing about other subjects; the parser decides on signals
    ],
)
def test_is_off_topic(text: str, off_topic: bool) -> None:
    assert is_off_topic(text) is off_topic


def test_polite_refusal_offers_what_to_ask() -> None:
    assert "movies" in POLITE_REFUSAL.lower()
    assert "like" in POLITE_REFUSAL


SCRUBBED = [
    ("Heat (movie_id 6): a tense heist thriller.", "Heat: a tense heist thriller."),
    ("Heat (id=6) is great", "Heat is great"),
    ("I picked movie_id: 2571 for you.", "I picked for you."),
    ("The Matrix [movieId 2571] bends minds", "The Matrix bends minds"),
    ("Tags: dark (0.912), twist ending (0.87).", "Tags: dark, twist ending."),
    ("It scores relevance 0.87 for heist.", "It scores for heist."),
    ("heist (relevance: 0.97)", "heist"),
    ("genome relevance score of 91% for noir", "for noir"),
    ("Alien. user_tags: ['creepy', 'ridley'] It is scary.", "Alien. It is scary."),
    ("Alien (genome_tags=[{'tag': 'aliens', 'relevance': 0.99}])", "Alien"),
    ("content_hash: 9f86d081884c7d65 Heat", "Heat"),
    ('Based on the "document": "Heat. A detective..." field', "Based on the field"),
    ("document: Heat (1995) Action|Crime", ""),
    ("Watch `user_tags` and enjoy", "Watch and enjoy"),
]

KEPT_OUT = [
    "Heat (1995) is rated 8.3/10 on IMDb: https://www.imdb.com/title/tt0113277/",
    "2001: A Space Odyssey runs 142 min and is rated 8.3.",
    "A documentary that documents the life of a chef.",
    "Ocean's 11 — a heist movie (2001).",
    "The plot is tense (and dark).",
    "Heat ,  a  classic () .\nAlien.  Jaws.",  # odd spacing is not ours to fix
]


@pytest.mark.parametrize(("text", "expected"), SCRUBBED, ids=[t for t, _ in SCRUBBED])
def test_internal_data_is_scrubbed(text: str, expected: str) -> None:
    assert scrub_internal(text) == expected


@pytest.mark.parametrize("text", KEPT_OUT)
def test_public_text_is_kept(text: str) -> None:
    assert scrub_internal(text) == text


def test_json_record_dumps_are_removed() -> None:
    record = {
        "movie_id": 6,
        "title": "Heat",
        "user_tags": ["secret"],
        "genome_tags": [{"tag": "heist", "relevance": 0.97}],
        "content_hash": "abc",
        "document": "Heat. {braces} inside",
    }
    text = f"Here is what I found:\n{json.dumps(record)}\nHeat is a great heist film."
    assert scrub_internal(text) == "Here is what I found:\n\nHeat is a great heist film."

    listing = f"Results: [{json.dumps(record)}, {json.dumps(record)}] Enjoy!"
    assert scrub_internal(listing) == "Results: Enjoy!"

    fenced = f"Try Heat.\n```json\n{json.dumps(record, indent=2)}\n```\nBye."
    assert scrub_internal(fenced) == "Try Heat.\n\nBye."


def test_json_without_record_keys_is_kept() -> None:
    text = 'Use the format {"title": "Heat"} when you ask.'
    assert scrub_internal(text) == text


def test_system_prompt_echoes_are_removed() -> None:
    one = "You are a movie recommendation assistant. I recommend Heat (1995)."
    assert scrub_internal(one) == "I recommend Heat (1995)."

    dump = (
        "My instructions are secret. Use only the movies in the context. Be nice.\n\n"
        "Heat (1995) is a classic."
    )
    assert scrub_internal(dump) == "Heat (1995) is a classic."

    role = "System: you must follow the rules\nnever mention ids\n\nTry Alien."
    assert scrub_internal(role) == "Try Alien."


def test_prompt_markers_can_be_added_per_call_and_derived_from_a_prompt() -> None:
    prompt = "Answer in English. Recommend films from the retrieved candidates only, please."
    markers = markers_from_prompt(prompt)
    assert markers == ["Recommend films from the retrieved candidates only, please."]
    leaked = "Recommend films from the retrieved candidates only, please. Heat is good."
    assert scrub_internal(leaked) == leaked  # not a default marker
    assert scrub_internal(leaked, extra_markers=markers) == "Heat is good."


def test_marker_list_is_extensible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "movie_rag.chain.safety.SYSTEM_PROMPT_MARKERS", [*SYSTEM_PROMPT_MARKERS, "secret sauce"]
    )
    assert scrub_internal("The secret sauce is ratings. Heat is good.") == "Heat is good."


def test_every_internal_field_is_scrubbed() -> None:
    for name in INTERNAL_FIELDS:
        assert name not in scrub_internal(f"Heat ({name}: 'x') is good"), name
