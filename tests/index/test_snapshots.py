"""The versioned directory under the local index and the collaborative model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from filelock import Timeout

from movie_rag._snapshots import VersionedDirectory


def _write(versions: VersionedDirectory, text: str) -> str:
    with versions.lock(), versions.stage() as staged:
        (staged.path / "data.txt").write_text(text)
    versions.publish(staged.name)
    return staged.name


@pytest.mark.parametrize("rename_staging", [True, False])
def test_publish_writes_the_pointer_last_and_keeps_the_previous_version(
    tmp_path: Path, rename_staging: bool
) -> None:
    versions = VersionedDirectory(tmp_path, keep=2, rename_staging=rename_staging)
    assert versions.live() is None
    names = [_write(versions, f"v{i}") for i in range(4)]
    assert versions.live() == names[-1]
    assert (versions.live_path() / "data.txt").read_text() == "v3"  # type: ignore[operator]
    # The new live version and the one before it (a reader may still be on it).
    assert versions.versions() == names[-2:]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["CURRENT", ".lock", *names[-2:]])


def test_a_failed_stage_leaves_nothing_and_the_live_version_stands(tmp_path: Path) -> None:
    versions = VersionedDirectory(tmp_path)
    live = _write(versions, "good")
    with pytest.raises(RuntimeError), versions.lock(), versions.stage() as staged:
        (staged.path / "data.txt").write_text("half")
        raise RuntimeError("disk full")
    assert versions.live() == live
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "CURRENT", live]


def test_leftovers_of_a_crashed_writer_are_pruned_by_the_next_one(tmp_path: Path) -> None:
    versions = VersionedDirectory(tmp_path)
    first = _write(versions, "one")
    (tmp_path / ".staging-v-crashed").mkdir()
    (tmp_path / ".CURRENT.tmp123").write_text("v-crashed")
    second = _write(versions, "two")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".lock", "CURRENT", first, second])


def test_writers_are_serialised_by_the_lock(tmp_path: Path) -> None:
    holder = VersionedDirectory(tmp_path)
    waiter = VersionedDirectory(tmp_path, lock_timeout=0.2)
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with holder.lock():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    entered.wait(5)
    try:
        with pytest.raises(Timeout), waiter.lock():
            pass
    finally:
        release.set()
        thread.join()
    with waiter.lock():
        pass


def test_a_workdir_written_before_the_helper_still_opens(tmp_path: Path) -> None:
    # The collaborative model's former layout: a second-resolution name, a pointer with a
    # newline, no lock file. It is read as is, and a new version is published beside it.
    old = tmp_path / "v-20250101T101010-abcd1234"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"format_version": 1}))
    (tmp_path / "CURRENT").write_text(old.name + "\n")
    versions = VersionedDirectory(tmp_path, rename_staging=False)
    assert versions.live_path() == old
    new = _write(versions, "new")
    assert new > old.name  # names still sort by time
    assert versions.versions() == [old.name, new]
