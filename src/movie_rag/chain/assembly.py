"""The one place a :class:`~movie_rag.chain.recommender.RecommenderChain` is put together.

``RecommenderChain.from_settings``, the served model (:func:`movie_rag.publish.model.build_chain`)
and the evaluation systems all call :func:`assemble_chain`. Every part can be given: the
index, the catalogue, the generator, the collaborative model, the feedback log, a wrapper
around the query encoder and a source of user profiles. What is not given comes from the
settings, the same way for every caller, so the assemblies cannot drift apart; evaluation
hooks are parameters here, never attributes patched onto a built chain.

Example:
    >>> from movie_rag import MovieRagSettings
    >>> chain = assemble_chain(MovieRagSettings(workdir=".movie_rag"))  # doctest: +SKIP
    >>> content_only = assemble_chain(settings, collab=None, feedback=None)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Final

from movie_rag.chain.catalogue import Catalogue
from movie_rag.settings import MovieRagSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from movie_rag.chain.recommender import Generator, ProfileSource, RecommenderChain
    from movie_rag.collab.model import CollaborativeModel
    from movie_rag.feedback.local import LocalFeedbackStore
    from movie_rag.index.embeddings import TextEncoder
    from movie_rag.index.manager import VectorIndexManager

__all__ = [
    "FROM_SETTINGS",
    "FromSettings",
    "QueryEncoderWrapper",
    "assemble_chain",
    "generator_from_settings",
    "read_catalogue",
]

#: Wraps the index's query encoder (for example to memoise repeated query texts).
QueryEncoderWrapper = Callable[["TextEncoder"], "TextEncoder"]


class FromSettings(Enum):
    """The type of :data:`FROM_SETTINGS`."""

    FROM_SETTINGS = "from settings"


#: "Open this part the way the settings say" (the default of :func:`assemble_chain`);
#: None means "no such part".
FROM_SETTINGS: Final = FromSettings.FROM_SETTINGS


def assemble_chain(
    settings: MovieRagSettings | None = None,
    *,
    index: VectorIndexManager | None = None,
    movies_info: pa.Table | None = None,
    catalogue: Catalogue | None = None,
    generator: Generator | None = None,
    collab: CollaborativeModel | FromSettings | None = FROM_SETTINGS,
    feedback: LocalFeedbackStore | FromSettings | None = FROM_SETTINGS,
    query_encoder: QueryEncoderWrapper | None = None,
    profiles: ProfileSource | None = None,
    chain_class: type[RecommenderChain] | None = None,
) -> RecommenderChain:
    """A ready chain from the settings, with any part given instead.

    Args:
        settings: Settings (default ``MovieRagSettings()``: the ``MOVIE_RAG_*`` variables).
        index: The index manager; default the settings' backend (the workdir's local index,
            or the Databricks Vector Search index).
        movies_info: The catalogue table; default read as the index serves it (see
            :func:`read_catalogue`). Ignored when ``catalogue`` is given.
        catalogue: The catalogue lookups, when the caller already built them.
        generator: Default :func:`generator_from_settings` (an LLM when ``llm_provider``
            names one, else the grounded generator).
        collab: The collaborative model; default the build's (when it trained one and
            ``collab_enabled``); None ranks on content alone.
        feedback: Where UI thumbs are read from; default the workdir's feedback log; None
            reads none.
        query_encoder: Wraps the query encoder of the default index (an evaluation memoises
            repeated texts with it); ignored when ``index`` is given or the index embeds
            queries on the server.
        profiles: Asked first for a user's taste (an evaluation's held-out histories).
        chain_class: The chain class to build (default RecommenderChain, or a subclass).

    Returns:
        The chain.

    Raises:
        ConfigurationError: The settings name a backend or LLM that cannot be opened.
    """
    settings = settings or MovieRagSettings()
    if index is None:
        index = _index_for(settings, query_encoder)
    if catalogue is None:
        catalogue = Catalogue(
            movies_info if movies_info is not None else read_catalogue(settings, index)
        )
    if generator is None:
        generator = generator_from_settings(settings)
    if collab is FROM_SETTINGS:
        from movie_rag.collab.model import CollaborativeModel

        collab = CollaborativeModel.open(settings)
    if feedback is FROM_SETTINGS:
        from movie_rag.feedback.local import LocalFeedbackStore

        feedback = LocalFeedbackStore(settings.workdir)
    if chain_class is None:
        # The one way down from the composition root to what it composes (the chain's
        # from_settings calls this function, so the import is deferred).
        from movie_rag.chain.recommender import RecommenderChain

        chain_class = RecommenderChain
    return chain_class(
        index,
        catalogue,
        settings=settings,
        generator=generator,
        collab=collab,
        feedback=feedback,
        profiles=profiles,
    )


def generator_from_settings(settings: MovieRagSettings) -> Generator | None:
    """The LLM generator ``llm_provider`` asks for, or None (the grounded generator).

    Args:
        settings: ``llm_provider`` and the ``llm_*`` fields (timeout, retries included).

    Returns:
        An :class:`~movie_rag.chain.generators.llm.LLMGenerator`, or None without an LLM.
    """
    if not settings.llm_enabled:
        return None
    from movie_rag.chain.generators.llm import LLMGenerator

    return LLMGenerator.from_settings(settings)


def read_catalogue(settings: MovieRagSettings, index: VectorIndexManager) -> pa.Table:
    """movies_info as the index serves it, with only the columns a prompt may show.

    Locally that is the table published with the live index version (no Spark); on
    Databricks the Unity Catalog table, read with the active Spark session (see
    :meth:`movie_rag.platform.Platform.read_catalogue`).

    Args:
        settings: Backend and table names.
        index: The index manager whose table is read.

    Returns:
        The catalogue table.
    """
    from movie_rag.platform import platform_for

    return platform_for(settings).read_catalogue(index=index)


def _index_for(
    settings: MovieRagSettings, query_encoder: QueryEncoderWrapper | None
) -> VectorIndexManager:
    from movie_rag.index.manager import VectorIndexManager

    manager = VectorIndexManager(settings)
    encoder = getattr(manager.index, "embeddings", None)
    if query_encoder is None or encoder is None:
        return manager
    # A second manager over the same index, built with the wrapped encoder (opening an
    # index reads nothing until its first search, so the first costs nothing).
    return VectorIndexManager(settings, embeddings=query_encoder(encoder))
