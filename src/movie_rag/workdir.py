"""The one object that owns the layout of a local working directory."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from movie_rag.errors import WorkdirError

__all__ = ["MIN_FREE_BYTES", "Workdir"]

logger = logging.getLogger("movie_rag")

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_BUILD_LOCK = ".build.lock"
_BUILD_OWNER = ".build.owner"

#: Free space a build needs in the workdir before it starts (Spark scratch, tables, index).
MIN_FREE_BYTES = 64 * 1024 * 1024


class Workdir:
    """Paths of everything a build leaves behind, so later processes need nothing else.

    Layout::

        tables/<name>/        bronze tables and movies_info (parquet or Delta)
        quarantine/<source>/  rejected input rows with the reason and source location
        index/                vectors, metadata and manifest
        collab/               collaborative-filtering artefacts
        mlflow/               sqlite tracking/registry store and artifacts
        logs/inference/       request/response log of local serving
        serving/port-<n>/     the served model's files (one copy per local server port)
        feedback/             user feedback from the UI
        reports/              build and evaluation reports
        spark/                Spark warehouse and scratch space
        .build.lock           held by the running build (one build per workdir at a time)

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

    @contextlib.contextmanager
    def build_lock(
        self, *, timeout: float = -1, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[None]:
        """Hold the workdir's build lock: builds into one workdir run one after the other.

        The lock is an OS file lock, so a build killed in any way (even ``kill -9``) frees it.
        A second build says who holds it and waits.

        Args:
            timeout: Seconds to wait for another build; negative waits as long as it runs.
            on_wait: Told ``"another build is running … waiting for it"`` when the lock is
                taken (default: a warning in the log).

        Raises:
            WorkdirError: The other build still runs after ``timeout`` seconds, or the lock
                file cannot be created.
        """
        from filelock import FileLock, Timeout

        self._make_root()
        lock = FileLock(str(self.root / _BUILD_LOCK))
        owner = self.root / _BUILD_OWNER
        try:
            acquired = _try_lock(lock, 0)
            if not acquired:
                holder = _describe_owner(owner)
                message = (
                    f"another build is running in {self.root} ({holder}); waiting for it to finish"
                )
                (on_wait or logger.warning)(message)
                started = time.monotonic()
                if not _try_lock(lock, timeout):
                    waited = time.monotonic() - started
                    raise WorkdirError(
                        self.root,
                        f"another build is still running after {waited:.0f} s ({holder}); "
                        "wait for it, or build into another --workdir",
                    )
        except (OSError, Timeout) as exc:
            raise WorkdirError(self.root, f"cannot take the build lock ({exc})") from None
        try:
            with contextlib.suppress(OSError):
                owner.write_text(
                    json.dumps({"pid": os.getpid(), "started": datetime.now(UTC).isoformat()})
                )
            yield
        finally:
            with contextlib.suppress(OSError):
                owner.unlink()
            lock.release()

    def check_writable(self, min_free_bytes: int = MIN_FREE_BYTES) -> None:
        """Fail fast, in one line, when a build could not write here.

        Args:
            min_free_bytes: Free space required.

        Raises:
            WorkdirError: The directory cannot be created or written (read-only file system,
                no permission) or has less than ``min_free_bytes`` free.
        """
        self._make_root()
        probe = self.root / f".write-probe-{os.getpid()}"
        try:
            with probe.open("wb") as handle:
                handle.write(b"\0" * 4096)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise WorkdirError(
                self.root, f"not writable ({exc.strerror or exc}); choose another --workdir"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        free = shutil.disk_usage(self.root).free
        if free < min_free_bytes:
            raise WorkdirError(
                self.root,
                f"only {free / 2**20:.1f} MiB free, a build needs at least "
                f"{min_free_bytes / 2**20:.0f} MiB; free some space or choose another --workdir",
            )

    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WorkdirError(
                self.root, f"cannot be created ({exc.strerror or exc}); choose another --workdir"
            ) from None


def _try_lock(lock: object, timeout: float) -> bool:
    from filelock import FileLock, Timeout

    assert isinstance(lock, FileLock)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        return False
    return True


def _describe_owner(owner: Path) -> str:
    try:
        info = json.loads(owner.read_text())
        return f"pid {info['pid']}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its owner is unknown"


def _checked(name: str) -> str:
    # Names become directory names: refuse anything that could escape the workdir.
    if not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"{name!r} is not a valid table or source name")
    return name
