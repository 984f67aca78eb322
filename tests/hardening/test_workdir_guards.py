"""The workdir guards of a build: one build at a time, and a clear error when it cannot write."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from movie_rag.errors import WorkdirError
from movie_rag.workdir import Workdir


def test_second_build_waits_and_says_for_whom(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from movie_rag.workdir import Workdir\n"
            f"with Workdir({str(tmp_path)!r}).build_lock():\n"
            "    print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    messages: list[str] = []
    started = time.monotonic()
    with Workdir(tmp_path).build_lock(on_wait=messages.append):
        waited = time.monotonic() - started
    holder.communicate(timeout=30)
    assert waited > 0.5
    assert len(messages) == 1
    assert "another build is running" in messages[0] and f"pid {holder.pid}" in messages[0]
    assert "waiting" in messages[0]


def test_lock_timeout_is_a_one_line_error(tmp_path: Path) -> None:
    done = threading.Event()
    workdir = Workdir(tmp_path)

    def hold() -> None:
        with Workdir(tmp_path).build_lock():
            done.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.3)
    try:
        with (
            pytest.raises(WorkdirError, match="another build is still running") as caught,
            workdir.build_lock(timeout=0.5, on_wait=lambda message: None),
        ):
            pass
        assert "\n" not in str(caught.value)
    finally:
        done.set()
        thread.join()


def test_lock_of_a_killed_build_is_free(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, signal; from movie_rag.workdir import Workdir\n"
            f"with Workdir({str(tmp_path)!r}).build_lock():\n"
            "    os.kill(os.getpid(), signal.SIGKILL)",
        ]
    )
    holder.wait(timeout=30)
    with Workdir(tmp_path).build_lock(timeout=2):
        pass


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True
    )
    return result.returncode == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [("ro,size=4m", "not writable"), ("size=2m", "MiB free")],
    ids=["read-only", "full"],
)
def test_unwritable_workdir_is_a_one_line_error(tmp_path: Path, options: str, message: str) -> None:
    target = tmp_path / "mnt"
    if not _mount(target, options):
        pytest.skip("needs permission to mount a tmpfs (root)")
    try:
        with pytest.raises(WorkdirError, match=message) as caught:
            Workdir(target / "wd" if "ro" not in options else target).check_writable()
        assert "\n" not in str(caught.value)
    finally:
        subprocess.run(["umount", str(target)], check=False)
