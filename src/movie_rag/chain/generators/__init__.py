"""Generators: the grounded (LLM-free) default, the LLM generator, and the answer parser."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from movie_rag.chain.generators.base import Generator
    from movie_rag.chain.generators.grounded import GroundedGenerator
    from movie_rag.chain.generators.llm import GenerationError, LLMGenerator
    from movie_rag.chain.generators.parsing import parse_answer

__all__ = ["GenerationError", "Generator", "GroundedGenerator", "LLMGenerator", "parse_answer"]

_EXPORTS = {
    "Generator": "movie_rag.chain.generators.base",
    "GroundedGenerator": "movie_rag.chain.generators.grounded",
    "GenerationError": "movie_rag.chain.generators.llm",
    "LLMGenerator": "movie_rag.chain.generators.llm",
    "parse_answer": "movie_rag.chain.generators.parsing",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
