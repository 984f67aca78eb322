"""An adversarial LLM for the chat emulator: real candidates in odd forms plus invented titles.

Shared by the grounding test and ``benchmarks/bench_evaluate.py``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from emulators.openai_chat import (
    RecordedRequest,
    Reply,
    fenced,
    json_answer,
    odd_title_forms,
    with_prose,
)

INVENTED = [
    "The Glass Cartographer", "Midnight Over Vellmar", "Seven Lanterns for Ada",
    "Thunder in the Orchard", "The Last Beekeeper of Mars", "Quiet Harbor Protocol",
    "A Saint for Tuesday", "Copperhead Junction", "The Unfolding Paper Crane",
    "Neon Tide Rising",
]  # fmt: skip


def candidates_in_prompt(request: RecordedRequest) -> list[tuple[str, int]]:
    """The candidate titles the chain put in the prompt (lines like ``1. Title (1999)``)."""
    found = []
    for line in request.prompt_text.splitlines():
        match = re.match(r"^\s*(?:\d+[.)]|-)\s+(.+?)\s+\((\d{4})\)", line)
        if match:
            found.append((match.group(1), int(match.group(2))))
    return found


def adversarial_responder(seed: int = 11) -> Callable[[RecordedRequest], Reply]:
    """Each reply names 3 real candidates in odd forms and 2 invented titles, shuffled."""
    rng = random.Random(seed)

    def respond(request: RecordedRequest) -> Reply:
        picks = []
        for title, year in candidates_in_prompt(request)[:3]:
            form = rng.choice(list(odd_title_forms(title, year).values()) or [title])
            picks.append((form, None, "A solid pick."))
        for title in rng.sample(INVENTED, 2):
            picks.append((title, rng.choice([None, 2011]), f"{title} is a hidden gem."))
        rng.shuffle(picks)
        content = json_answer(picks, intro="You'll love these.")
        return Reply(content=rng.choice([content, fenced(content), with_prose(content)]))

    return respond
