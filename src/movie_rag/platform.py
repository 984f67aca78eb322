"""The one backend switch: where tables, catalogue, collaborative model, index and serving live.

Two platforms: the local (offline) workdir and Databricks.

:func:`platform_for` is the only reader of ``settings.backend``; everything else asks the
:class:`Platform` it returns. An unknown backend never gets here: ``MovieRagSettings``
rejects it when the settings are validated (``MOVIE_RAG_BACKEND``).

Adding a backend is one class here implementing :class:`Platform` (plus its entry in
:data:`movie_rag.settings.Backend` and :data:`_PLATFORMS`).

Example:
    >>> from movie_rag.settings import MovieRagSettings
    >>> platform = platform_for(MovieRagSettings(workdir="/tmp/wd"))
    >>> platform.name, platform.is_local, platform.table_name("movies_info")
    ('local', True, 'movies_info')
    >>> platform_for(MovieRagSettings(backend="databricks", catalog="main")).table_name("x")
    'main.silver.x'
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from movie_rag.errors import ConfigurationError
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

    from movie_rag.catalog.visibility import Visibility
    from movie_rag.index.base import VectorIndex
    from movie_rag.index.embeddings import TextEncoder
    from movie_rag.index.manager import VectorIndexManager
    from movie_rag.settings import Backend, MovieRagSettings

__all__ = ["DatabricksPlatform", "LocalPlatform", "Platform", "platform_for"]

Layer = Literal["bronze", "silver"]


@runtime_checkable
class Platform(Protocol):
    """What differs between running locally and on Databricks.

    Attributes:
        name: The backend's settings value (``local`` or ``databricks``).
        is_local: Whether everything lives in the workdir (no workspace, no Unity Catalog).
        settings: The settings the platform was chosen from.
    """

    name: ClassVar[Backend]
    is_local: ClassVar[bool]
    settings: MovieRagSettings

    def table_name(self, name: str, layer: Layer = "silver") -> str:
        """The name a table is written under (short locally, ``catalog.schema.name`` on UC)."""
        ...

    def table_location(self, name: str, layer: Layer = "silver") -> str:
        """Where a table lives: a workdir directory locally, a three-level name on UC."""
        ...

    def read_catalogue(
        self,
        *,
        index: VectorIndexManager | None = None,
        spark: SparkSession | None = None,
        audience: Visibility = "prompt",
    ) -> pa.Table:
        """``movies_info`` as Arrow (the rows matching ``index``), minus hidden columns."""
        ...

    def collab_location(self) -> Path:
        """Where the collaborative model's files live (``settings.collab_path`` wins)."""
        ...

    def vector_index(
        self, embeddings: TextEncoder | None = None, *, batch_size: int = 32, use_cache: bool = True
    ) -> VectorIndex:
        """The vector index of this platform."""
        ...

    def serving(self, publisher: Any) -> Any:
        """The served-model factory: a local ``serve_local`` or Databricks serving client."""
        ...


class LocalPlatform:
    """Everything in the workdir: parquet/Delta tables, the local index, ``mlflow models serve``.

    Args:
        settings: Settings with ``backend="local"``.
    """

    name: ClassVar[Backend] = "local"
    is_local: ClassVar[bool] = True

    def __init__(self, settings: MovieRagSettings) -> None:
        self.settings = settings
        self.workdir = Workdir(settings.workdir)

    def __repr__(self) -> str:
        return f"LocalPlatform(workdir={str(self.workdir.root)!r})"

    def table_name(self, name: str, layer: Layer = "silver") -> str:
        """The short name: local tables have no catalog or schema."""
        return name

    def table_location(self, name: str, layer: Layer = "silver") -> str:
        """The table's directory in the workdir."""
        return str(self.workdir.table(name))

    def read_catalogue(
        self,
        *,
        index: VectorIndexManager | None = None,
        spark: SparkSession | None = None,
        audience: Visibility = "prompt",
    ) -> pa.Table:
        """Read the workdir's movies_info without Spark.

        With ``index``, the copy published with its live version (a build interrupted between
        writing the table and swapping the index leaves both on the previous version).
        """
        from movie_rag.catalog.visibility import restrict
        from movie_rag.tables import read_local_table

        if index is not None:
            location: str | Path = index.table_location
        else:
            location = self.table_location(self.settings.movies_info_table)
        return restrict(read_local_table(location), audience)

    def collab_location(self) -> Path:
        """``settings.collab_path`` or ``<workdir>/collab``."""
        if self.settings.collab_path:
            return Path(self.settings.collab_path)
        return self.workdir.collab

    def vector_index(
        self, embeddings: TextEncoder | None = None, *, batch_size: int = 32, use_cache: bool = True
    ) -> VectorIndex:
        """The local index in ``<workdir>/index`` (the settings' embedding model by default)."""
        if embeddings is None:
            # The manager owns the default encoder (model check, ONNX export beside the index).
            from movie_rag.index.manager import VectorIndexManager

            manager = VectorIndexManager(self.settings, batch_size=batch_size, use_cache=use_cache)
            return manager.index
        from movie_rag.index.local import LocalVectorIndex

        return LocalVectorIndex(self.workdir.index, embeddings, use_cache=use_cache)

    def serving(self, publisher: Any) -> Any:
        """``publisher.serve_local``: ``mlflow models serve`` on loopback."""
        return publisher.serve_local


class DatabricksPlatform:
    """Unity Catalog tables and volumes, Vector Search, Model Serving (through the workspace).

    Args:
        settings: Settings with ``backend="databricks"``.
    """

    name: ClassVar[Backend] = "databricks"
    is_local: ClassVar[bool] = False

    def __init__(self, settings: MovieRagSettings) -> None:
        self.settings = settings

    def __repr__(self) -> str:
        return f"DatabricksPlatform(catalog={self.settings.catalog!r})"

    def table_name(self, name: str, layer: Layer = "silver") -> str:
        """``catalog.schema.name``, the schema chosen by layer."""
        s = self.settings
        schema = s.bronze_schema if layer == "bronze" else s.silver_schema
        return f"{s.catalog}.{schema}.{name}"

    def table_location(self, name: str, layer: Layer = "silver") -> str:
        """The three-level Unity Catalog name."""
        return self.table_name(name, layer)

    def read_catalogue(
        self,
        *,
        index: VectorIndexManager | None = None,
        spark: SparkSession | None = None,
        audience: Visibility = "prompt",
    ) -> pa.Table:
        """Read the Unity Catalog movies_info with ``spark`` (the active session by default).

        The Vector Search index syncs from this table, so ``index`` changes nothing here.

        The hidden columns are dropped before the data leaves Spark.
        """
        from movie_rag.catalog.visibility import columns_above
        from movie_rag.spark import get_spark, spark_to_arrow

        session = spark if spark is not None else get_spark(self.settings)
        table = session.table(self.table_name(self.settings.movies_info_table))
        return spark_to_arrow(table.drop(*sorted(columns_above(audience))))

    def collab_location(self) -> Path:
        """``settings.collab_path`` or the volume ``/Volumes/<catalog>/<silver>/collab``.

        Volumes are plain files on the driver, so the same code reads and writes both.
        """
        if self.settings.collab_path:
            return Path(self.settings.collab_path)
        return Path("/Volumes") / self.settings.catalog / self.settings.silver_schema / "collab"

    def vector_index(
        self, embeddings: TextEncoder | None = None, *, batch_size: int = 32, use_cache: bool = True
    ) -> VectorIndex:
        """The Vector Search index; without an embedder Databricks embeds ``document`` itself."""
        from movie_rag.index.databricks import DatabricksVectorIndex

        return DatabricksVectorIndex.from_settings(self.settings, embeddings=embeddings)

    def serving(self, publisher: Any) -> Any:
        """``publisher.databricks_serving``: endpoints, secrets and grants of the workspace."""
        return publisher.databricks_serving


_PLATFORMS: dict[str, type[LocalPlatform] | type[DatabricksPlatform]] = {
    LocalPlatform.name: LocalPlatform,
    DatabricksPlatform.name: DatabricksPlatform,
}


def platform_for(settings: MovieRagSettings) -> Platform:
    """The platform ``settings.backend`` names; the one place that reads it.

    Args:
        settings: Validated settings.

    Returns:
        A :class:`LocalPlatform` or :class:`DatabricksPlatform`.

    Raises:
        ConfigurationError: The backend is unknown (settings built without validation, e.g.
            ``model_construct`` or ``model_copy(update=...)``).
    """
    kind = _PLATFORMS.get(settings.backend)
    if kind is None:
        raise ConfigurationError(
            f"settings.backend={settings.backend!r} (MOVIE_RAG_BACKEND) is not a backend; "
            f"use one of: {', '.join(_PLATFORMS)}"
        )
    return kind(settings)
