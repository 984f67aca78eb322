"""The one object that owns the layout of a local working directory."""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["Workdir"]

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class Workdir:
    """Paths of everything a build leaves behind, so later processes need nothing else.

    Layout::

        tables/<name>/        bronze tables and movies_info (parquet or Delta)
        quarantine/<source>/  rejected input rows with the reason and source location
        index/                vectors, metadata and manifest
        collab/               collaborative-filtering artefacts
        mlflow/               sqlite tracking/registry store and artifacts
        logs/inference/       request/response log of local serving
        feedback/             user feedback from the UI
        reports/              build and evaluation reports
        spark/                Spark warehouse and scratch space

    Example:
        >>> from movie_rag import Workdir
        >>> wd = Workdir("/tmp/movie_rag_example")
        >>> wd.table("movies_info").as_posix()
        '/tmp/movie_rag_example/tables/movies_info'
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Workdir({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workdir) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    @property
    def tables(self) -> Path:
        """Directory holding one sub-directory per table."""
        return self.root / "tables"

    def table(self, name: str) -> Path:
        """Directory of the table ``name``."""
        return self.tables / _checked(name)

    @property
    def quarantine(self) -> Path:
        """Directory of quarantined rows, one sub-directory per source."""
        return self.root / "quarantine"

    def quarantine_for(self, source: str) -> Path:
        """Directory of the quarantined rows of one source."""
        return self.quarantine / _checked(source)

    @property
    def index(self) -> Path:
        """Directory of the vector index (vectors, metadata, manifest)."""
        return self.root / "index"

    @property
    def collab(self) -> Path:
        """Directory of collaborative-filtering artefacts."""
        return self.root / "collab"

    @property
    def mlflow(self) -> Path:
        """Directory of the local MLflow store (sqlite database and artifacts)."""
        return self.root / "mlflow"

    @property
    def inference_logs(self) -> Path:
        """Directory of the local serving request/response log."""
        return self.root / "logs" / "inference"

    @property
    def feedback(self) -> Path:
        """Directory of user feedback captured by the UI."""
        return self.root / "feedback"

    @property
    def reports(self) -> Path:
        """Directory of build and evaluation reports."""
        return self.root / "reports"

    @property
    def spark(self) -> Path:
        """Directory of the local Spark warehouse and scratch files."""
        return self.root / "spark"

    def ensure(self) -> Workdir:
        """Create the root and its standard sub-directories; returns ``self``."""
        for path in (
            self.tables,
            self.quarantine,
            self.index,
            self.collab,
            self.mlflow,
            self.inference_logs,
            self.feedback,
            self.reports,
            self.spark,
        ):
            path.mkdir(parents=True, exist_ok=True)
        return self


def _checked(name: str) -> str:
    # Names become directory names: refuse anything that could escape the workdir.
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"{name!r} is not a valid table or source name")
    return name
