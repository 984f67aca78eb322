"""The LLM generator and its chat models, under the module path earlier releases used.

The code lives in :mod:`movie_rag.chain.generators.llm` (the generator, retries, timeout),
:mod:`movie_rag.chain.generators.parsing` (reading what a model wrote) and
:mod:`movie_rag.chain.llm_providers` (one entry per provider); import from there.
"""

from __future__ import annotations

from movie_rag.chain.generators.llm import GenerationError, LLMGenerator
from movie_rag.chain.generators.parsing import parse_answer
from movie_rag.chain.llm_providers import (
    DEFAULT_DATABRICKS_ENDPOINT,
    chat_model_from_settings,
    databricks_chat_model,
    openai_compatible_chat_model,
)

__all__ = [
    "DEFAULT_DATABRICKS_ENDPOINT",
    "GenerationError",
    "LLMGenerator",
    "chat_model_from_settings",
    "databricks_chat_model",
    "openai_compatible_chat_model",
    "parse_answer",
]
