"""Exception hierarchy: every message names the file, field or resource and the fix."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigurationError",
    "DataValidationError",
    "DownloadError",
    "InputFileError",
    "MovieRagError",
    "WorkdirError",
]


class MovieRagError(Exception):
    """Base class of every error raised by movie_rag."""


class ConfigurationError(MovieRagError):
    """A setting is missing or inconsistent (names the setting and how to set it)."""


class InputFileError(MovieRagError):
    """An input file is missing, empty, unreadable or not of the expected shape.

    Attributes:
        path: The offending file (or directory).
        expected: What the loader expected to find there.
    """

    def __init__(self, path: str | Path, problem: str, expected: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.expected = expected
        message = f"{self.path}: {problem}"
        if expected:
            message += f" (expected {expected})"
        super().__init__(message)


class DataValidationError(MovieRagError):
    """A value broke a data contract and could not be quarantined.

    Attributes:
        path: The file the value came from, when known.
        field: The column or JSON field.
        row: The 1-based line (CSV) or record number (JSON), when known.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.field = field
        self.row = row
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {problem}" if prefix else problem)


class DownloadError(MovieRagError):
    """A dataset could not be downloaded or failed its checksum."""


class WorkdirError(MovieRagError):
    """The working directory cannot take a build: read-only, full, or locked by another build.

    Attributes:
        path: The working directory.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"workdir {self.path}: {problem}")
