"""A versioned directory: stage a version, publish it by a pointer written last, prune.

Layout (the local vector index and the collaborative model both use it)::

    CURRENT                 name of the live version (a small text file, replaced atomically)
    v-<time>-<id>/          one complete version
    .staging-v-<...>/       a version being written (only with ``rename_staging``)
    .lock                   held by writers

A writer takes :meth:`VersionedDirectory.lock`, fills a new version inside
:meth:`~VersionedDirectory.stage` (every file is fsynced when the block ends, and a failed
block leaves nothing behind), then :meth:`~VersionedDirectory.publish` writes ``CURRENT``
last (temp file, fsync, rename) and prunes old versions. Readers never lock: they read
``CURRENT`` and open the directory it names, so they never see a partial version. The
previous live version is kept for a reader that resolved ``CURRENT`` just before a swap.

With ``rename_staging`` a version is written under a hidden name and renamed into place,
so a crashed writer leaves only a hidden directory; without it (object storage such as a
Unity Catalog volume, where a directory rename is a copy) the version is written under its
final name, which no reader knows until ``CURRENT`` names it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import BaseFileLock, FileLock, SoftFileLock, Timeout

__all__ = ["Staged", "VersionedDirectory", "write_durably"]

logger = logging.getLogger("movie_rag")

POINTER = "CURRENT"
VERSION_PREFIX = "v-"
STAGING_PREFIX = ".staging-"
LOCK = ".lock"

#: (inode, mtime, size) of the pointer: any swap changes the inode.
PointerStat = tuple[int, int, int] | None


@dataclass(frozen=True)
class Staged:
    """A version being written: fill ``path``; it goes live as ``name``."""

    name: str
    path: Path


class VersionedDirectory:
    """Versions of one artefact under ``root``, one of them live.

    Args:
        root: The directory.
        keep: Versions kept after a publish (the new live one and the newest others;
            the previously live version is always kept too).
        rename_staging: Write versions under a hidden name and rename them into place
            (local disks); False writes under the final name (object storage).
        lock_timeout: Seconds a writer waits for another's lock; negative waits forever.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        keep: int = 2,
        rename_staging: bool = True,
        lock_timeout: float = -1,
    ) -> None:
        self.root = Path(root)
        self.keep = max(1, keep)
        self.rename_staging = rename_staging
        self.lock_timeout = lock_timeout

    # -- reading ---------------------------------------------------------------------------

    def live(self) -> str | None:
        """Name of the live version, or None when nothing is published."""
        try:
            name = (self.root / POINTER).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return name or None

    def live_path(self) -> Path | None:
        """Directory of the live version, or None."""
        name = self.live()
        return None if name is None else self.root / name

    def pointer_stat(self) -> PointerStat:
        """A cheap token that changes whenever the pointer is replaced."""
        try:
            stat = (self.root / POINTER).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def versions(self) -> list[str]:
        """Names of the complete versions on disk, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.name.startswith(VERSION_PREFIX) and p.is_dir()
        )

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the writers' lock (waits up to ``lock_timeout``).

        Raises:
            filelock.Timeout: Another writer held it for longer than ``lock_timeout``.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock = self._lock()
        try:
            lock.acquire(timeout=0)
        except Timeout:
            logger.info("waiting for another writer of %s", self.root)
            lock.acquire(timeout=self.lock_timeout)
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def stage(self) -> Iterator[Staged]:
        """A new, empty version to fill; complete and fsynced (not yet live) after the block.

        An exception inside the block removes what was written.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{VERSION_PREFIX}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        path = self.root / (f"{STAGING_PREFIX}{name}" if self.rename_staging else name)
        path.mkdir()
        try:
            yield Staged(name, path)
            _fsync_tree(path)
            if self.rename_staging:
                os.replace(path, self.root / name)
            _fsync_directory(self.root)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise

    def publish(self, name: str) -> Path:
        """Make version ``name`` live (pointer written last), then prune old versions.

        Returns:
            The live version's directory.
        """
        previous = self.live()
        temp = self.root / f".{POINTER}.{uuid.uuid4().hex}"
        write_durably(temp, name + "\n")
        os.replace(temp, self.root / POINTER)
        _fsync_directory(self.root)
        self.prune(keep={name, *([previous] if previous else [])})
        return self.root / name

    def prune(self, keep: set[str] | None = None) -> None:
        """Remove versions beyond the newest ``keep`` count (and ``keep``), and leftovers.

        Call with the lock held: leftovers of crashed writers are then safe to remove.
        """
        if not self.root.is_dir():
            return
        live = self.live()
        kept = set(keep or ()) | set(self.versions()[-self.keep :]) | ({live} if live else set())
        for child in self.root.iterdir():
            stale = child.name.startswith(VERSION_PREFIX) and child.name not in kept
            if stale or child.name.startswith((STAGING_PREFIX, f".{POINTER}.")):
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every version and the pointer (the lock file stays)."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if child.name == LOCK:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()

    def _lock(self) -> BaseFileLock:
        lock: BaseFileLock = FileLock(self.root / LOCK, timeout=self.lock_timeout)
        try:
            # Probe: some FUSE mounts (object-storage volumes) refuse flock.
            lock.acquire(timeout=0)
        except Timeout:
            return lock
        except (NotImplementedError, OSError):
            return SoftFileLock(self.root / f"{LOCK}.soft", timeout=self.lock_timeout)
        lock.release()
        return lock


def write_durably(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` and fsync it before returning."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_directory(Path(directory))


def _fsync_directory(path: Path) -> None:
    # Makes renames and new entries durable; some filesystems cannot open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
