"""Settings for every component, layered: init args > env (``MOVIE_RAG_*``) > defaults."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Backend", "LLMProvider", "MovieRagSettings", "SettingsGroup"]

#: Where tables, index and models live; :func:`movie_rag.platform.platform_for` maps each value
#: to its platform. Anything else fails validation (it never falls back to a default).
Backend = Literal["local", "databricks"]
#: Who writes the answers: ``none`` is the grounded generator (no LLM).
LLMProvider = Literal["none", "databricks", "openai"]

_UC_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SettingsGroup(Mapping[str, Any]):
    """A read-only view of one group of settings, named without the group's prefix.

    ``settings.collab.top_n`` is ``settings.collab_top_n``; the flat names and their
    ``MOVIE_RAG_*`` variables stay the one place values are set. The view also reads as a
    mapping (``dict(settings.llm)``).

    Args:
        settings: The settings viewed (read live, not copied).
        fields: Short name → settings field.
    """

    __slots__ = ("_fields", "_settings")

    def __init__(self, settings: MovieRagSettings, fields: Mapping[str, str]) -> None:
        object.__setattr__(self, "_settings", settings)
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return getattr(self._settings, self._fields[name])
        except KeyError:
            raise AttributeError(f"settings group has no setting {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"settings groups are read-only; set {self._fields.get(name, name)!r} on the settings"
        )

    def __getitem__(self, name: str) -> Any:
        if name not in self._fields:
            raise KeyError(name)
        return getattr(self._settings, self._fields[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        shown = {k: ("**********" if "key" in k or "token" in k else v) for k, v in self.items()}
        return f"SettingsGroup({shown})"


def _group(prefix: str, names: str, *, keep: str = "") -> dict[str, str]:
    # Short name -> field: the prefix is dropped, `keep` names are taken as they are.
    fields = {name.removeprefix(prefix): name for name in names.split()}
    return fields | {name: name for name in keep.split()}


#: The grouped views: view name -> (short name -> settings field).
GROUPS: dict[str, dict[str, str]] = {
    "vector_search": _group("vs_", "vs_endpoint_name vs_index_name vs_poll_interval vs_timeout"),
    "ranking": _group(
        "",
        "retrieval_mode candidate_pool default_k weight_similarity weight_rating "
        "rating_prior_count weight_popularity weight_boost mmr_lambda allow_outside_catalog",
    ),
    "collab": _group(
        "collab_",
        "collab_enabled collab_path collab_like_threshold collab_min_co_likes collab_top_n "
        "collab_alpha collab_shrinkage collab_engine collab_min_likes",
        keep="als_rank als_reg als_alpha als_max_iter weight_collab weight_like_similarity "
        "weight_like_popularity weight_like_rating weight_collab_text weight_personal",
    ),
    "llm": _group(
        "llm_",
        "llm_provider llm_endpoint llm_base_url llm_api_key llm_timeout llm_max_retries "
        "llm_temperature",
    ),
}


class MovieRagSettings(BaseSettings):
    """Configuration shared by every movie_rag component.

    Values come from keyword arguments first, then environment variables prefixed with
    ``MOVIE_RAG_`` (``MOVIE_RAG_BACKEND=databricks``), then the defaults below.

    Example:
        >>> from movie_rag import MovieRagSettings
        >>> settings = MovieRagSettings(backend="local", workdir="/tmp/movie_rag_example")
        >>> settings.table_name("movies_info")
        'movies_info'
        >>> MovieRagSettings(backend="databricks", catalog="main").table_name("movies_info")
        'main.silver.movies_info'
    """

    model_config = SettingsConfigDict(env_prefix="MOVIE_RAG_", extra="forbid")

    backend: Backend = Field("local", description="Where tables, index and models live.")
    workdir: Path = Field(
        Path(".movie_rag"), description="Local working directory (tables, index, registry)."
    )
    catalog: str = Field("movie_rag", description="Unity Catalog catalog (databricks backend).")
    bronze_schema: str = Field("bronze", description="Schema of the raw (bronze) tables.")
    silver_schema: str = Field("silver", description="Schema of movies_info (silver).")
    movies_info_table: str = Field("movies_info", description="Name of the movies_info table.")
    table_format: Literal["auto", "delta", "parquet"] = Field(
        "auto", description="'auto' picks Delta when the Spark runtime has it, else parquet."
    )
    spark_master: str = Field("local[*]", description="Master URL for a local Spark session.")
    spark_driver_memory: str = Field("4g", description="Driver memory of a local session.")
    spark_shuffle_partitions: int = Field(
        4, ge=1, description="Shuffle partitions for a local session (small data)."
    )
    genome_threshold: float = Field(
        0.4, ge=0.0, le=1.0, description="Minimum genome relevance kept in genome_tags."
    )
    genome_max_tags: int = Field(20, ge=0, description="Cap on genome tags per movie.")
    bayes_prior_count: float = Field(
        10.0, ge=0.0, description="Pseudo-count m of the Bayesian mean (C*m + sum) / (m + n)."
    )
    embedding_model: str = Field(
        "all-MiniLM-L6-v2", description="Embedding model whose token limit bounds documents."
    )
    document_max_tokens: int | None = Field(
        None, ge=16, description="Override the document token limit (default: the model's)."
    )
    embedding_backend: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="Local encoder runtime: 'onnx' (onnxruntime, no torch on the query path), "
        "'torch' (sentence-transformers); 'auto' is onnx when onnxruntime is installed.",
    )
    embedding_query_int8: bool = Field(
        False,
        description="Encode queries with the int8-quantised ONNX export (documents stay "
        "fp32); off: it changes rankings more than the 1% quality bar allows.",
    )
    title_year_tolerance: int = Field(
        1, ge=0, le=3, description="Years of slack when matching id-less records on title."
    )

    # -- Databricks Vector Search ------------------------------------------------------
    vs_endpoint_name: str = Field("movie_rag_vs", description="Vector Search endpoint.")
    vs_index_name: str | None = Field(
        None, description="Index name (default <catalog>.<silver_schema>.movies_info_index)."
    )
    vs_poll_interval: float = Field(
        10.0, gt=0, description="Seconds between readiness polls of endpoint and index."
    )
    vs_timeout: float = Field(3600.0, gt=0, description="Seconds to wait for readiness.")

    # -- retrieval and ranking ----------------------------------------------------------
    retrieval_mode: Literal["dense", "hybrid"] = Field(
        "hybrid", description="Index search mode for free-text queries."
    )
    candidate_pool: int = Field(60, ge=10, description="Movies retrieved before re-ranking.")
    default_k: int = Field(5, ge=1, le=50, description="Recommendations per answer.")
    weight_similarity: float = Field(0.6, ge=0.0, description="Weight of query/seed similarity.")
    weight_rating: float = Field(0.25, ge=0.0, description="Weight of the rating prior.")
    rating_prior_count: int = Field(
        10,
        ge=0,
        description="MovieLens ratings at which a movie's own rating counts half in the "
        "rating prior (fewer: pulled towards the catalogue mean; 0: the rating as it is).",
    )
    weight_popularity: float = Field(
        0.15, ge=0.0, description="Weight of popularity (log MovieLens rating count)."
    )
    weight_boost: float = Field(
        0.15, ge=0.0, description="Weight of soft boosts (vibes, mood genres)."
    )
    mmr_lambda: float | None = Field(
        None, ge=0.0, le=1.0, description="MMR diversity trade-off (1 = relevance only)."
    )
    allow_outside_catalog: bool = Field(
        False, description="Keep LLM-named titles the platform lacks, labelled as such."
    )

    # -- collaborative signal and personalisation -------------------------------------
    collab_enabled: bool = Field(
        True, description="Train co-like neighbours and ALS at build; blend them when ranking."
    )
    collab_path: str | None = Field(
        None,
        description="Collaborative artefacts (default <workdir>/collab; on Databricks "
        "/Volumes/<catalog>/<silver_schema>/collab).",
    )
    collab_like_threshold: float = Field(
        4.0, ge=0.0, description="A rating at or above this counts as a like."
    )
    collab_min_co_likes: int = Field(
        1, ge=1, description="Neighbour pairs liked together by fewer users are dropped."
    )
    collab_top_n: int = Field(100, ge=1, description="Co-like neighbours kept per movie.")
    collab_alpha: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Co-like normalisation co/(n_i^a * n_j^(1-a)): 0.5 cosine, 1 P(j liked | i).",
    )
    collab_shrinkage: float = Field(
        5.0,
        ge=0.0,
        description="Co-likes at which a neighbour's score is halved (co/(co+s)): discounts "
        "pairs few users co-liked (0: no shrinkage).",
    )
    collab_engine: Literal["auto", "single_node", "spark"] = Field(
        "auto",
        description="Where the collaborative model trains: 'single_node' (scipy + implicit, "
        "in-process), 'spark' (Spark jobs, MLlib ALS); 'auto' is single_node on the local "
        "backend and spark on Databricks.",
    )
    als_rank: int = Field(32, ge=1, description="ALS latent factors.")
    als_reg: float = Field(0.1, gt=0.0, description="ALS L2 regularisation.")
    als_alpha: float = Field(10.0, gt=0.0, description="ALS implicit-feedback confidence scale.")
    als_max_iter: int = Field(10, ge=1, description="ALS iterations.")
    weight_collab: float = Field(
        1.0, ge=0.0, description="Weight of co-like neighbours of the seed ('like X')."
    )
    weight_like_similarity: float = Field(
        0.3,
        ge=0.0,
        description="'Like X' with co-likes: weight of content similarity (cold seeds "
        "drift back to weight_similarity).",
    )
    weight_like_popularity: float = Field(
        0.0,
        ge=0.0,
        description="'Like X' with co-likes: weight of popularity (cold seeds drift back to "
        "weight_popularity).",
    )
    weight_like_rating: float = Field(
        0.1,
        ge=0.0,
        description="'Like X' with co-likes: weight of the rating prior (cold seeds drift back "
        "to weight_rating).",
    )
    weight_collab_text: float = Field(
        0.4,
        ge=0.0,
        description="Weight of co-like neighbours of the best text matches (free text).",
    )
    weight_personal: float = Field(
        8.0, ge=0.0, description="Weight of the user's profile (ALS and liked movies)."
    )
    collab_min_likes: int = Field(
        25,
        ge=1,
        description="Likes a seed needs for full collaborative weight (fewer: content carries it).",
    )

    # -- generation -------------------------------------------------------------------
    llm_provider: LLMProvider = Field(
        "none", description="'none' uses the grounded generator (no LLM)."
    )
    llm_endpoint: str = Field(
        "databricks-meta-llama-3-3-70b-instruct",
        description="Databricks serving endpoint (or model name for OpenAI-compatible servers).",
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (Ollama, vLLM, ...)."
    )
    llm_api_key: SecretStr | None = Field(None, description="API key of that server.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before an LLM call is abandoned.")
    llm_max_retries: int = Field(2, ge=0, description="Retries on 429/5xx.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0)
    # Databricks credentials: unset, databricks-sdk's unified auth chain decides (notebook,
    # Model Serving, Databricks Apps, DATABRICKS_* variables, ~/.databrickscfg); these win.
    databricks_host: str | None = Field(
        None, description="Workspace URL (default: the SDK's, e.g. DATABRICKS_HOST)."
    )
    databricks_token: SecretStr | None = Field(
        None, description="Personal access token (overrides the SDK's auth chain)."
    )
    databricks_client_id: str | None = Field(
        None, description="Service principal application id for OAuth M2M (with the secret)."
    )
    databricks_client_secret: SecretStr | None = Field(
        None, description="OAuth secret of that service principal."
    )
    databricks_profile: str | None = Field(
        None, description="Profile of ~/.databrickscfg to authenticate with."
    )

    # -- serving ----------------------------------------------------------------------
    serving_interface: Literal["dataframe", "responses"] = Field(
        "dataframe",
        description="Interface of the published model: 'dataframe' (the chat UI's "
        "dataframe_split and chat contract) or 'responses' (MLflow ResponsesAgent, for AI "
        "Playground, the Review App and agents.deploy).",
    )

    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking store of the databricks-uc publisher (unset: the "
        "workspace's, 'databricks'); e.g. sqlite:///mlflow.db runs that path offline.",
    )
    mlflow_registry_uri: str | None = Field(
        None,
        description="MLflow model registry of the databricks-uc publisher (unset: Unity "
        "Catalog, 'databricks-uc'); e.g. sqlite:///mlflow.db runs that path offline.",
    )

    # -- feedback ---------------------------------------------------------------------
    sql_warehouse_id: str | None = Field(
        None,
        description="SQL warehouse that writes UI feedback to Unity Catalog (unset: workdir only).",
    )
    feedback_table: str | None = Field(
        None, description="UC table of UI feedback (default <catalog>.<silver_schema>.feedback)."
    )

    @field_validator("catalog", "bronze_schema", "silver_schema", "movies_info_table")
    @classmethod
    def _uc_identifier(cls, value: str) -> str:
        if not _UC_IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} is not a valid Unity Catalog identifier "
                "(letters, digits and underscores, not starting with a digit)"
            )
        return value

    def table_name(self, name: str, layer: Literal["bronze", "silver"] = "silver") -> str:
        """The name a table is written under.

        Args:
            name: The short table name (``movies_info``, ``movielens_ratings``).
            layer: ``bronze`` for raw tables, ``silver`` for cleaned ones.

        Returns:
            ``catalog.schema.name`` on Databricks, the short name locally.
        """
        from movie_rag.platform import platform_for

        return platform_for(self).table_name(name, layer)

    @property
    def vector_search(self) -> SettingsGroup:
        """Databricks Vector Search: ``endpoint_name``, ``index_name``, timing."""
        return SettingsGroup(self, GROUPS["vector_search"])

    @property
    def ranking(self) -> SettingsGroup:
        """Retrieval and ranking: ``retrieval_mode``, ``candidate_pool``, the weights."""
        return SettingsGroup(self, GROUPS["ranking"])

    @property
    def collab(self) -> SettingsGroup:
        """The collaborative signal: ``enabled``, ``top_n``, ``engine``, ALS and its weights."""
        return SettingsGroup(self, GROUPS["collab"])

    @property
    def llm(self) -> SettingsGroup:
        """Generation: ``provider``, ``endpoint``, ``base_url``, ``api_key``, timing."""
        return SettingsGroup(self, GROUPS["llm"])

    @property
    def llm_enabled(self) -> bool:
        """Whether an LLM writes the answers (``llm_provider`` other than ``none``)."""
        return self.llm_provider != "none"
