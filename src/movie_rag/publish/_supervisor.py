"""Keeps a local model server tied to the process that started it.

``ModelPublisher.serve_local`` starts ``python -m movie_rag.publish._supervisor CMD...`` in
a new session (so the supervisor leads the server's process group) with a pipe on its stdin
whose other end only the parent holds. The supervisor runs ``CMD`` (``mlflow models serve``,
which starts uvicorn) in that group and waits. When the parent goes away, however it goes
(``kill -9`` included), the pipe reads end-of-file and the supervisor stops the whole group:
SIGTERM, then SIGKILL after a grace period. No model server outlives ``movie-rag serve``, so
the next ``serve`` on the same port finds it free.

A SIGTERM or SIGINT to the supervisor (``LocalServer.stop`` signals the group) does the same.
The supervisor exits with the server's exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

GRACE_SECONDS = 10.0


def _stop_group(child: subprocess.Popen[bytes], grace: float) -> None:
    group = os.getpgrp()
    # The supervisor itself ignores the SIGTERM it sends its own group.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.killpg(group, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    # Whatever is still in the group (uvicorn busy in a request, the server itself) goes now,
    # the supervisor with it.
    os.killpg(group, signal.SIGKILL)


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
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL)

    def watch_parent() -> None:
        try:
            while sys.stdin.buffer.read(1):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    while not stop.is_set():
        code = child.poll()
        if code is not None:
            return code
        stop.wait(0.2)
    _stop_group(child, GRACE_SECONDS)
    return child.wait()


def _exit(code: int) -> None:
    if code < 0:
        # Killed by a signal: die by the same one, so the parent sees what the server saw.
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
