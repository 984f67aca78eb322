"""Generators: the grounded (LLM-free) default, the LLM generator, and the answer parser."""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
