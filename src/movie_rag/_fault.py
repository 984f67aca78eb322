"""Fault injection for the crash tests; never set outside them.

Setting ``MOVIE_RAG_FAULT_KILL_AT`` to one of :data:`POINTS` makes a build kill its own
process with ``SIGKILL`` (the signal nothing can catch or clean up after, like a power cut or
the out-of-memory killer) when it reaches that point. It is the deterministic way for a test
to stop a build in the middle of a given stage; the variable is read nowhere else and does
nothing when unset.
"""

from __future__ import annotations

import os
import signal

__all__ = ["FAULT_ENV", "POINTS", "fault_point"]

FAULT_ENV = "MOVIE_RAG_FAULT_KILL_AT"

#: Where a build can be killed, in the order a build reaches them.
POINTS = (
    "bronze",  # after the first bronze table is swapped in, before the others
    "movies_info",  # after movies_info and the quarantine are written, before the index
    "collab",  # while the collaborative model trains
    "embedding",  # after the first chunk of documents is embedded and cached
    "index_swap",  # after the new index version is in place, before it is made current
)


def fault_point(name: str) -> None:
    """Kill this process with SIGKILL if the crash tests asked for it at ``name``."""
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
