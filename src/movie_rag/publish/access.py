"""What the served model's identity may touch, declared once.

:class:`ServedModelAccess` lists every Databricks object the served Databricks-flavour model
reaches — the Vector Search index it queries, the serving endpoints it calls (embeddings,
the LLM) and the collaborative model's volume — and derives from that one declaration both
the Unity Catalog grants and endpoint permissions a deploy gives the endpoint's identity
(:meth:`ServedModelAccess.grants`) and the MLflow ``resources`` logged with the model for
automatic auth passthrough (:meth:`ServedModelAccess.resources`).

Example:
    >>> from movie_rag.settings import MovieRagSettings
    >>> access = ServedModelAccess.from_settings(
    ...     MovieRagSettings(backend="databricks", catalog="main", silver_schema="mr")
    ... )
    >>> access.index
    'main.mr.movies_info_index'
    >>> [str(g) for g in access.grants()][2]
    'SELECT on TABLE main.mr.movies_info_index'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from movie_rag.publish.errors import ServingConfigError

if TYPE_CHECKING:
    from movie_rag.settings import MovieRagSettings

__all__ = ["FOUNDATION_PREFIX", "Grant", "ServedModelAccess"]

#: Databricks' pay-per-token Foundation Model endpoints: every workspace user may query them,
#: so they take no CAN QUERY grant (and cannot be given one).
FOUNDATION_PREFIX = "databricks-"


@dataclass(frozen=True, order=True)
class Grant:
    """One privilege on one object.

    Attributes:
        securable_type: ``CATALOG``, ``SCHEMA``, ``TABLE`` (a Vector Search index is granted
            as a table), ``VOLUME`` or ``SERVING_ENDPOINT``.
        full_name: The object's full name (an endpoint's name).
        privilege: ``USE_CATALOG``, ``USE_SCHEMA``, ``SELECT``, ``READ_VOLUME`` or
            ``CAN_QUERY`` (an endpoint permission level, not a Unity Catalog privilege).
    """

    securable_type: str
    full_name: str
    privilege: str

    def __str__(self) -> str:
        return f"{self.privilege} on {self.securable_type} {self.full_name}"

    @property
    def unity_catalog(self) -> bool:
        """Whether Unity Catalog's grants API takes it (else the endpoint permissions API)."""
        return self.securable_type != "SERVING_ENDPOINT"


@dataclass(frozen=True)
class ServedModelAccess:
    """The objects the served model reads, and so what its identity needs.

    Attributes:
        index: The Vector Search index (``catalog.schema.index``).
        endpoints: Serving endpoints it calls: the embedding endpoint, the LLM endpoint.
        collab_volume: The Unity Catalog volume of the collaborative model
            (``catalog.schema.volume``), when the model has one.
        tables: Further tables it reads (none by default: the catalogue ships inside).
    """

    index: str
    endpoints: tuple[str, ...] = ()
    collab_volume: str | None = None
    tables: tuple[str, ...] = field(default=())

    @classmethod
    def from_settings(cls, settings: MovieRagSettings) -> ServedModelAccess:
        """What the Databricks-flavour model built from ``settings`` reaches.

        The index is the one ``DatabricksVectorIndex.from_settings`` queries; the embedding
        endpoint is ``settings.embedding_model`` unless that names the local model (then the
        default Databricks embedding endpoint); the LLM endpoints the provider calls
        (``databricks``: its serving endpoint); the collab volume when collaborative ranking
        is on and its location is a volume.
        """
        from movie_rag.chain.llm_providers import llm_provider_for
        from movie_rag.index.databricks import DEFAULT_EMBEDDING_ENDPOINT

        s = settings
        index = s.vs_index_name or f"{s.catalog}.{s.silver_schema}.{s.movies_info_table}_index"
        model = s.embedding_model.removeprefix("sentence-transformers/")
        endpoints = [DEFAULT_EMBEDDING_ENDPOINT if model == "all-MiniLM-L6-v2" else model]
        provider = llm_provider_for(s)
        if provider is not None:
            endpoints.extend(provider.serving_endpoints(s))
        return cls(
            index=index,
            endpoints=tuple(dict.fromkeys(endpoints)),
            collab_volume=_collab_volume(s),
        )

    def grants(self) -> list[Grant]:
        """Exactly the privileges these objects need, each once, parents first.

        USE CATALOG and USE SCHEMA on each parent, SELECT on the index and tables, READ
        VOLUME on the collab volume, CAN QUERY on each endpoint that is not a Foundation
        Model endpoint.

        Raises:
            ServingConfigError: A name is not three-level.
        """
        grants: list[Grant] = []
        leaves = [("TABLE", self.index, "SELECT")]
        leaves += [("TABLE", table, "SELECT") for table in self.tables]
        if self.collab_volume:
            leaves.append(("VOLUME", self.collab_volume, "READ_VOLUME"))
        for securable_type, name, privilege in leaves:
            parts = name.split(".")
            if len(parts) != 3 or not all(parts):
                raise ServingConfigError(
                    f"{securable_type.lower()} {name!r} is not a three-level Unity Catalog "
                    "name (catalog.schema.name)"
                )
            grants += [
                Grant("CATALOG", parts[0], "USE_CATALOG"),
                Grant("SCHEMA", f"{parts[0]}.{parts[1]}", "USE_SCHEMA"),
                Grant(securable_type, name, privilege),
            ]
        grants += [
            Grant("SERVING_ENDPOINT", endpoint, "CAN_QUERY")
            for endpoint in self.endpoints
            if not endpoint.startswith(FOUNDATION_PREFIX)
        ]
        return list(dict.fromkeys(grants))

    def resources(self) -> list[Any]:
        """MLflow resources for automatic auth passthrough: the index and the endpoints."""
        from mlflow.models.resources import (
            DatabricksServingEndpoint,
            DatabricksTable,
            DatabricksVectorSearchIndex,
        )

        resources: list[Any] = [DatabricksVectorSearchIndex(index_name=self.index)]
        resources += [DatabricksServingEndpoint(endpoint_name=e) for e in self.endpoints]
        resources += [DatabricksTable(table_name=t) for t in self.tables]
        return resources


def _collab_volume(settings: MovieRagSettings) -> str | None:
    if not settings.collab_enabled:
        return None
    from movie_rag.collab.model import collab_location

    parts = collab_location(settings).parts
    # /Volumes/<catalog>/<schema>/<volume>/...
    if len(parts) >= 5 and parts[1] == "Volumes":
        return ".".join(parts[2:5])
    return None
