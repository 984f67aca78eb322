"""The recommender chain: a question in, grounded movie recommendations out.

``RecommenderChain`` is the LangChain Runnable (built by :func:`assemble_chain` or
``RecommenderChain.from_settings``); ``RecommendationRequest`` and ``RecommendationResponse``
are what goes in and comes out. Names are imported on first use, so importing this package
loads no model, index or LangChain integration.

Example:
    >>> from movie_rag.chain import RecommendationRequest, RecommenderChain
    >>> RecommendationRequest(query="heist movies", k=3).k
    3
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from movie_rag._exports import lazy_exports

if TYPE_CHECKING:
    from movie_rag.chain.assembly import FROM_SETTINGS, assemble_chain
    from movie_rag.chain.catalogue import Catalogue, MovieRef
    from movie_rag.chain.generators.base import Generator
    from movie_rag.chain.generators.grounded import GroundedGenerator
    from movie_rag.chain.generators.llm import GenerationError, LLMGenerator
    from movie_rag.chain.generators.parsing import parse_answer
    from movie_rag.chain.grounding import NOT_ON_PLATFORM, GroundingGuard
    from movie_rag.chain.llm_providers import (
        LLM_PROVIDERS,
        LLMProvider,
        chat_model_from_settings,
        llm_provider_for,
    )
    from movie_rag.chain.query import QueryParser
    from movie_rag.chain.ranking import Ranker
    from movie_rag.chain.recommender import STEPS, ChainEvent, ProfileSource, RecommenderChain
    from movie_rag.chain.safety import POLITE_REFUSAL, redact_pii, scrub_internal
    from movie_rag.chain.text import STOP_WORDS
    from movie_rag.chain.types import (
        Candidate,
        FollowUp,
        GeneratedAnswer,
        HistoryTurn,
        ParsedQuery,
        Pick,
        Recommendation,
        RecommendationRequest,
        RecommendationResponse,
        RecommendationResponseChunk,
        SeedMovie,
    )

__all__ = [
    "FROM_SETTINGS",
    "LLM_PROVIDERS",
    "NOT_ON_PLATFORM",
    "POLITE_REFUSAL",
    "STEPS",
    "STOP_WORDS",
    "Candidate",
    "Catalogue",
    "ChainEvent",
    "FollowUp",
    "GeneratedAnswer",
    "GenerationError",
    "Generator",
    "GroundedGenerator",
    "GroundingGuard",
    "HistoryTurn",
    "LLMGenerator",
    "LLMProvider",
    "MovieRef",
    "ParsedQuery",
    "Pick",
    "ProfileSource",
    "QueryParser",
    "Ranker",
    "Recommendation",
    "RecommendationRequest",
    "RecommendationResponse",
    "RecommendationResponseChunk",
    "RecommenderChain",
    "SeedMovie",
    "assemble_chain",
    "chat_model_from_settings",
    "llm_provider_for",
    "parse_answer",
    "redact_pii",
    "scrub_internal",
]

_EXPORTS: dict[str, str] = {
    "RecommenderChain": "movie_rag.chain.recommender",
    "ChainEvent": "movie_rag.chain.recommender",
    "ProfileSource": "movie_rag.chain.recommender",
    "STEPS": "movie_rag.chain.recommender",
    "assemble_chain": "movie_rag.chain.assembly",
    "FROM_SETTINGS": "movie_rag.chain.assembly",
    "RecommendationRequest": "movie_rag.chain.types",
    "RecommendationResponse": "movie_rag.chain.types",
    "RecommendationResponseChunk": "movie_rag.chain.types",
    "Recommendation": "movie_rag.chain.types",
    "HistoryTurn": "movie_rag.chain.types",
    "ParsedQuery": "movie_rag.chain.types",
    "Candidate": "movie_rag.chain.types",
    "SeedMovie": "movie_rag.chain.types",
    "FollowUp": "movie_rag.chain.types",
    "Pick": "movie_rag.chain.types",
    "GeneratedAnswer": "movie_rag.chain.types",
    "Catalogue": "movie_rag.chain.catalogue",
    "MovieRef": "movie_rag.chain.catalogue",
    "Generator": "movie_rag.chain.generators.base",
    "GroundedGenerator": "movie_rag.chain.generators.grounded",
    "LLMGenerator": "movie_rag.chain.generators.llm",
    "GenerationError": "movie_rag.chain.generators.llm",
    "parse_answer": "movie_rag.chain.generators.parsing",
    "LLMProvider": "movie_rag.chain.llm_providers",
    "LLM_PROVIDERS": "movie_rag.chain.llm_providers",
    "chat_model_from_settings": "movie_rag.chain.llm_providers",
    "llm_provider_for": "movie_rag.chain.llm_providers",
    "GroundingGuard": "movie_rag.chain.grounding",
    "NOT_ON_PLATFORM": "movie_rag.chain.grounding",
    "POLITE_REFUSAL": "movie_rag.chain.safety",
    "scrub_internal": "movie_rag.chain.safety",
    "redact_pii": "movie_rag.chain.safety",
    "QueryParser": "movie_rag.chain.query",
    "Ranker": "movie_rag.chain.ranking",
    "STOP_WORDS": "movie_rag.chain.text",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
