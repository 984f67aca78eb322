"""Secrets out of every outgoing text: configured values and strings shaped like credentials.

:func:`redact_secrets` replaces any registered secret (:func:`register_secret`,
:func:`register_settings_secrets`), the value of any environment variable whose name says
KEY, TOKEN, SECRET, PASSWORD or CREDENTIAL, strings shaped like API keys and tokens, and
long random-looking tokens. The chain's output scrub (:mod:`movie_rag.chain.safety`) and
the log redaction (:mod:`movie_rag.privacy`) both use it.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter

__all__ = [
    "SECRET_PLACEHOLDER",
    "redact_secrets",
    "register_secret",
    "register_settings_secrets",
]

_REGISTERED_SECRETS: set[str] = set()
_SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PAT\b", re.IGNORECASE)
_MIN_SECRET_CHARS = 8
SECRET_PLACEHOLDER = "[redacted]"
_SECRET_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r"|\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}"
    r"|\bdapi[0-9a-f]{32}(?:-\d+)?\b"
    r"|\bdose[0-9a-f]{32}\b"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{40,}"
    r"|\bhf_[A-Za-z0-9]{30,}"
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|\bAIza[0-9A-Za-z_-]{35}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|(?i:\b(?:bearer|authorization:?\s*bearer)\s+)[A-Za-z0-9._~+/-]{16,}=*"
)
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:api[_-]?key|access[_-]?key|secret(?:[_-]?key)?|token|password|passwd|"
    r"client[_-]?secret)\s*[:=]\s*)[\"']?[^\s\"',;]{6,}[\"']?"
)
_LONG_TOKEN = re.compile(r"(?<![\w/.#?=&%-])[A-Za-z0-9_+/-]{32,}={0,2}(?![\w/.-])")


def register_secret(value: str | None) -> None:
    """Remember a secret value that must never appear in outgoing text.

    Values of environment variables whose names say KEY, TOKEN, SECRET, PASSWORD or
    CREDENTIAL are found without registering; this is for secrets passed in code.

    Args:
        value: The secret (ignored when shorter than 8 characters: too likely in prose).
    """
    if value and len(value.strip()) >= _MIN_SECRET_CHARS:
        _REGISTERED_SECRETS.add(value.strip())


def register_settings_secrets(settings: object) -> None:
    """Register every secret a settings object holds (its ``SecretStr`` values).

    Args:
        settings: A :class:`~movie_rag.settings.MovieRagSettings` (any pydantic model).
    """
    from pydantic import BaseModel, SecretStr

    if not isinstance(settings, BaseModel):
        return
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            register_secret(value.get_secret_value())


def _configured_secrets() -> list[str]:
    values = set(_REGISTERED_SECRETS)
    for name, value in os.environ.items():
        value = value.strip()
        if len(value) >= _MIN_SECRET_CHARS and _SECRET_ENV_NAME.search(name):
            values.add(value)
    # Longest first: a secret that contains another is replaced whole.
    return sorted(values, key=len, reverse=True)


def _random_looking(token: str) -> bool:
    if not (re.search(r"\d", token) and re.search(r"[A-Za-z]", token)):
        return False
    counts = Counter(token)
    entropy = -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
    return entropy >= 3.5


def redact_secrets(text: str, *, random_tokens: bool = True) -> str:
    """Replace secrets with ``[redacted]``.

    Removes every configured secret value (see :func:`register_secret`), strings shaped
    like API keys and tokens (``sk-…``, ``dapi…``, ``ghp_…``, ``AKIA…``, JWTs, bearer
    tokens, private-key blocks, ``api_key=…``) and long random-looking tokens.

    Args:
        text: Outgoing text.
        random_tokens: Also replace any long random-looking token (32+ letters and digits).
            Log lines turn it off: run ids and hashes there are not secrets.

    Returns:
        The text without secrets.
    """
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, SECRET_PLACEHOLDER)
    text = _SECRET_SHAPES.sub(SECRET_PLACEHOLDER, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + SECRET_PLACEHOLDER, text)
    if not random_tokens:
        return text
    return _LONG_TOKEN.sub(
        lambda m: SECRET_PLACEHOLDER if _random_looking(m.group(0)) else m.group(0), text
    )
