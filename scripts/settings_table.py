"""Rewrite the settings table in docs/api/settings.md from MovieRagSettings.

Usage: .venv/bin/python scripts/settings_table.py  (tests/docs checks the table is current)
"""

from __future__ import annotations

import re
from pathlib import Path

from movie_rag.settings import MovieRagSettings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "api" / "settings.md"
HEADER = "| setting | environment variable | default | meaning |\n|---|---|---|---|\n"


def table() -> str:
    rows = [
        f"| `{name}` | `MOVIE_RAG_{name.upper()}` | `{field.default}` | "
        f"{(field.description or '').replace('|', '/')} |"
        for name, field in MovieRagSettings.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    text = PAGE.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(HEADER) + r"(?:\|.*\|\n)*")
    if not pattern.search(text):
        raise SystemExit(f"{PAGE}: settings table header not found")
    PAGE.write_text(pattern.sub(lambda _: table(), text, count=1), encoding="utf-8")


if __name__ == "__main__":
    main()
