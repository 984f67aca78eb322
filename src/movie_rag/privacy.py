"""Personal data out of everything movie_rag logs or stores: one definition for every sink.

:func:`redact_pii` replaces e-mails, phone numbers, payment cards (Luhn checked), IBANs
(mod-97 checked), US social security numbers, IP addresses and street addresses in free text
with placeholders. The chain redacts a question before it reaches an LLM; the same function
is what the feedback log, the Unity Catalog feedback table, the inference log, MLflow traces,
the UI's log lines and the CLI's stderr go through:

- :func:`redact_user_id` keeps a plain name (``alice``, ``42``) and turns a user id that *is*
  personal data (an e-mail, a phone number) into a stable pseudonym, so personalisation still
  finds the user's votes while the address itself is never written;
- :func:`redact_value` applies :func:`redact_pii` to every string inside a JSON-like value
  (filters, params, a chain input with its history);
- :class:`RedactingFilter` is a :mod:`logging` filter that redacts a record's message,
  arguments and traceback text; :func:`install_log_redaction` puts it on the ``movie_rag``
  logger and on given handlers.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from movie_rag.secret_redaction import redact_secrets

__all__ = [
    "PII_PLACEHOLDERS",
    "RedactingFilter",
    "install_log_redaction",
    "redact_pii",
    "redact_user_id",
    "redact_value",
]

logger = logging.getLogger("movie_rag")

#: What each class of personal data becomes.
PII_PLACEHOLDERS: dict[str, str] = {
    "email": "[email]",
    "iban": "[iban]",
    "card": "[card]",
    "ssn": "[ssn]",
    "ip": "[ip]",
    "address": "[address]",
    "phone": "[phone]",
}


_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# Print form in groups of four, or compact; the mod-97 check decides.
_IBAN = re.compile(
    r"\b[A-Z]{2}\d{2}(?:(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?|[A-Z0-9]{11,30})\b",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d-]|\.\d)")
# Area 000, 666 and 9xx, group 00 and serial 0000 are never issued.
_SSN = re.compile(r"\b(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}\b")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,12}(?:[ .-]\d{1,12}){0,6}"
    r"(?![\w]|\.\d)"
)
_YEARISH = re.compile(r"^(?:18[89]\d|19\d\d|20[0-4]\d)$")


def _mod97_ok(candidate: str) -> bool:
    compact = re.sub(r"[ -]", "", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rotated = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rotated)
    return int(digits) % 97 == 1


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        value = int(ch)
        if i % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    groups = [len(g) for g in re.split(r"[ -]", candidate)]
    # Card numbers are printed compact or in their issuers' groupings; a run of years
    # ("1990 1995 2000 2005") has the digits but not the issuer prefix.
    grouped = len(groups) == 1 or groups[:3] in ([4, 4, 4], [4, 6, 5], [4, 6, 4])
    issuer = digits[0] in "3456" or 2221 <= int(digits[:4]) <= 2720
    return grouped and issuer and _luhn_ok(digits)


def _is_phone(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    groups = [g for g in re.split(r"[^\d]+", candidate) if g]
    if all(_YEARISH.match(g) for g in groups):
        return False
    international = candidate.startswith(("+", "00"))
    if international:
        return 8 <= len(digits) <= 15
    if re.fullmatch(r"\d{3}[-.]\d{4}", candidate):
        return True
    if len(groups) == 1 and "(" not in candidate:
        # A bare run of digits is a phone number only at national length (9-11 digits).
        return 9 <= len(digits) <= 11
    return 9 <= len(digits) <= 15


def _is_ipv6(candidate: str) -> bool:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _replace(
    pattern: re.Pattern[str], text: str, placeholder: str, valid: Callable[[str], bool]
) -> tuple[str, int]:
    count = 0

    def substitute(match: re.Match[str]) -> str:
        nonlocal count
        if valid(match.group(0)):
            count += 1
            return placeholder
        return match.group(0)

    return pattern.sub(substitute, text), count


# Street addresses: a house number, one to four name words and a street-type word, optionally
# a unit, a city, a state and a postcode. Movie titles share the shape ("21 Jump Street",
# "Miracle on 34th Street"), so a short house number counts only with an address cue before
# it ("I live at", "my address is") or a city/postcode/unit after it; a house number of three
# or more digits, or with a letter ("221B"), counts on its own. Ordinals ("34th") never do.
_STREET_TYPES = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|square|sq|parkway|pkwy|highway|hwy|crescent|close|circle|cir|alley|row|"
    r"strasse|straße|gasse|rue|calle|via"
)
_ADDRESS = re.compile(
    r"(?P<cue>\b(?i:live[sd]?\s+(?:at|on)|living\s+(?:at|on)|reside\s+at|located\s+at|"
    r"address\s*(?:is|:)?|ship\s+(?:it\s+)?to|send\s+(?:it\s+)?to|deliver\s+(?:it\s+)?to|"
    r"come\s+(?:over\s+)?to)\s+)?"
    r"(?P<number>\b\d{1,6}(?:[A-Za-z](?![A-Za-z]))?(?:-\d{1,4})?)\s+"
    r"(?P<street>(?:[A-Za-zÀ-ÿ'.-]+\s+){0,3}?(?i:" + _STREET_TYPES + r")\b\.?"
    r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b\.?)?)"
    r"(?P<tail>(?:\s*,?\s*(?i:apt|apartment|unit|suite|ste|flat|\#)\.?\s*[\w-]+)?"
    r"(?:\s*,\s*[A-Z][A-Za-zÀ-ÿ'.-]+(?:\s+[A-Z][a-zà-ÿ'.-]+){0,2})?"
    r"(?:\s*,?\s*(?:[A-Z]{2}\s+)?\d{5}(?:-\d{4})?)?"
    r"(?:\s*,?\s*[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2})?)",
)


def _address_sub(text: str) -> tuple[str, int]:
    count = 0

    def substitute(match: re.Match[str]) -> str:
        nonlocal count
        number, tail = match.group("number"), match.group("tail").strip(" ,")
        strong = len(re.sub(r"\D", "", number.split("-")[0])) >= 3 or number[-1].isalpha()
        if not (strong or match.group("cue") or tail):
            return match.group(0)
        count += 1
        return (match.group("cue") or "") + PII_PLACEHOLDERS["address"]

    return _ADDRESS.sub(substitute, text), count


def redact_pii(text: str) -> str:
    """Replace personal data with placeholders.

    Emails become ``[email]``, IBANs (mod-97 checked) ``[iban]``, payment card numbers
    (Luhn checked) ``[card]``, US social security numbers ``[ssn]``, IPv4/IPv6 addresses
    ``[ip]``, street addresses ``[address]`` and phone numbers in common national and
    international formats ``[phone]``. Years, year ranges, ratings, durations and numbers
    in titles ("21 Jump Street", "Apollo 13") are left alone.

    Args:
        text: Any text (a user's query, a chat message, a log line).

    Returns:
        The text with personal data replaced.

    Example:
        >>> redact_pii("I'm bob@example.com, call +44 20 7946 0958. Movies like Heat (1995)?")
        "I'm [email], call [phone]. Movies like Heat (1995)?"
    """
    if not text:
        return text
    always: Callable[[str], bool] = lambda _: True  # noqa: E731
    steps: list[tuple[re.Pattern[str], str, Callable[[str], bool]]] = [
        (_EMAIL, "[email]", always),
        (_IBAN, "[iban]", _mod97_ok),
        (_CARD, "[card]", _is_card),
        (_SSN, "[ssn]", always),
        (_IPV4, "[ip]", always),
        (_IPV6, "[ip]", _is_ipv6),
    ]
    found: dict[str, int] = {}
    for pattern, placeholder, valid in steps:
        text, count = _replace(pattern, text, placeholder, valid)
        if count:
            found[placeholder] = found.get(placeholder, 0) + count
    # Addresses before phone numbers: a house number and a postcode are digits too.
    text, count = _address_sub(text)
    if count:
        found["[address]"] = count
    text, count = _replace(_PHONE, text, "[phone]", _is_phone)
    if count:
        found["[phone]"] = count
    if found:
        # Counts only: the values themselves must not reach a log (and this logger's own
        # records pass through the redacting filter anyway).
        logger.debug("redacted personal data: %s", found)
    return text


#: Prefix of a pseudonymous user id.
_PSEUDONYM = "user-"
_PSEUDONYM_FORM = re.compile(r"user-[0-9a-f]{16}")


def redact_user_id(user_id: str) -> str:
    """A user id that is safe to store: itself, or a stable pseudonym when it is personal data.

    A name such as ``alice`` or a MovieLens id such as ``42`` is kept. An id that contains
    an e-mail, a phone number or any other class :func:`redact_pii` knows becomes
    ``user-<16 hex digits>`` (a SHA-256 of the id): the same person gets the same pseudonym
    on every click, so their votes still count, while the address is never written.

    Args:
        user_id: What the UI or a client sent as the user's id (already stripped).

    Returns:
        The id to store and to look votes up by.
    """
    if _PSEUDONYM_FORM.fullmatch(user_id) or redact_pii(user_id) == user_id:
        return user_id
    digest = hashlib.sha256(("movie_rag:" + user_id.casefold()).encode("utf-8")).hexdigest()
    return _PSEUDONYM + digest[:16]


def redact_value(value: Any) -> Any:
    """:func:`redact_pii` on every string inside a JSON-like value.

    Mappings, lists and tuples are rebuilt with their strings redacted (keys too); other
    values (numbers, None, pydantic models dumped to dicts beforehand) come back as they are.

    Args:
        value: A chain input, filters, params, a response dump.

    Returns:
        The value without personal data.
    """
    if isinstance(value, str):
        return redact_pii(value)
    if isinstance(value, Mapping):
        return {
            (redact_pii(key) if isinstance(key, str) else key): redact_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    return value


def _clean_log_text(text: str) -> str:
    # Secret values and key-shaped strings too (an LLM error may quote its request), but
    # not every long token: run ids and hashes in a log are no secrets.
    return redact_secrets(redact_pii(text), random_tokens=False)


class RedactingFilter(logging.Filter):
    """A logging filter that removes personal data (and secrets) from every record it sees.

    The message is formatted with its arguments and redacted; a traceback is formatted now
    and redacted too (handlers reuse ``record.exc_text``). Put it on a handler to cover
    every logger that handler serves, or on a logger for that logger's own records.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        if getattr(record, "_movie_rag_redacted", False):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = _clean_log_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = _clean_log_text(record.stack_info)
        record._movie_rag_redacted = True
        return True


def install_log_redaction(handlers: Iterable[logging.Handler] = ()) -> None:
    """Redact personal data from the ``movie_rag`` logger's records and from ``handlers``.

    Idempotent. The CLI calls it for its stderr handler; the package calls it for the
    ``movie_rag`` logger on import of any sink (UI, serving, feedback).

    Args:
        handlers: Handlers whose every record (from any logger) must be redacted.
    """
    for target in (logging.getLogger("movie_rag"), *handlers):
        if not any(isinstance(f, RedactingFilter) for f in target.filters):
            target.addFilter(RedactingFilter())


install_log_redaction()
