"""Keeps a local model server tied to the process that started it.

``ModelPublisher.serve_local`` starts ``python -m movie_rag.publish._supervisor CMD...`` in
a new session (so the supervisor leads the server's process group) with a pipe on its stdin
whose other end only the parent holds. The supervisor runs ``CMD`` (MLflow's scoring server
under uvicorn, as ``mlflow models serve`` starts it) in that group and waits. When the
parent goes away, however it goes (``kill -9`` included), the pipe reads end-of-file and the
supervisor stops the whole group: SIGTERM, then SIGKILL after a grace period. It is a child
subreaper (Linux), so a uvicorn worker orphaned when its parent exits is reaped here rather
than left as a zombie under an init that does not reap; the supervisor exits only once every
other process of the group is gone and reaped. No model server outlives ``movie-rag serve``,
so the next ``serve`` on the same port finds it free.

A SIGTERM or SIGINT to the supervisor (``LocalServer.stop`` signals the group) does the same.
The supervisor exits with the server's exit code.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

GRACE_SECONDS = 10.0

#: ``prctl`` option that makes orphaned descendants reparent to this process (Linux).
_PR_SET_CHILD_SUBREAPER = 36


def _become_subreaper() -> bool:
    """Adopt orphaned descendants (uvicorn once ``mlflow`` exits), so they are reaped here.

    Without it they go to PID 1, and an init that does not reap (common in containers) keeps
    them as zombies.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _group_members(group: int) -> list[int] | None:
    """Live (non-zombie) processes of ``group`` other than this one; ``None`` without /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            # Fields after the parenthesised command: state, ppid, pgrp, ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


class _Reaper:
    """Reaps every child of this process, keeping the exit code of the server."""

    def __init__(self, child: subprocess.Popen[bytes]) -> None:
        self.child = child
        self.code: int | None = None

    def reap(self, *, block: bool) -> bool:
        """Reap exited children; returns whether any child is left."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.child.pid:
                self.code = os.waitstatus_to_exitcode(status)
                self.child.returncode = self.code


def _stop_group(reaper: _Reaper, grace: float) -> None:
    """Stop every other process of this group, reap them all, and only then return.

    A process holding the server's port is gone (and reaped) by the time this returns, so the
    port is free once the supervisor exits.
    """
    group = os.getpgrp()
    # The supervisor itself ignores the SIGTERM it sends its own group.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        reaper.reap(block=False)
        members = _group_members(group)
        if members == [] or (members is None and reaper.code is not None):
            break
        time.sleep(0.1)
    members = _group_members(group)
    if members is None:
        # No /proc to tell the group's members apart: the supervisor goes with them.
        os.killpg(group, signal.SIGKILL)
    # Whatever is still in the group (uvicorn busy in a request, the server itself) goes now.
    for pid in members or []:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    reaper.reap(block=True)


def main(argv: list[str]) -> int:
    """Run ``argv`` in this process group; stop the group when stdin closes or on SIGTERM."""
    if not argv:
        print("usage: python -m movie_rag.publish._supervisor COMMAND [ARGS...]", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    _become_subreaper()
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    reaper = _Reaper(child)

    def watch_parent() -> None:
        try:
            while sys.stdin.buffer.read(1):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    while not stop.is_set() and reaper.code is None:
        reaper.reap(block=False)
        stop.wait(0.2)
    # The server exited or the owner went away: nothing of the group outlives this process.
    _stop_group(reaper, GRACE_SECONDS)
    return reaper.code if reaper.code is not None else 1


def _exit(code: int) -> None:
    if code < 0:
        # Killed by a signal: die by the same one, so the parent sees what the server saw.
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
