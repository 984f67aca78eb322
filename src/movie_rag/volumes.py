"""Unity Catalog volumes the library writes files to, created when missing.

On Databricks a path ``/Volumes/<catalog>/<schema>/<volume>/...`` is a file path on the
driver, but only once the volume exists: a directory cannot be made in ``/Volumes/<c>/<s>``,
so writing the collaborative model to a volume nobody created fails with a bare
``FileNotFoundError``. :func:`ensure_volume` creates the managed volume through the Unity
Catalog API first (with the workspace credentials of :mod:`movie_rag.workspace`).
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from movie_rag.errors import ConfigurationError

if TYPE_CHECKING:
    from movie_rag.settings import MovieRagSettings

__all__ = ["ensure_volume", "volume_of"]

logger = logging.getLogger("movie_rag")


def volume_of(path: str | Path) -> tuple[str, str, str] | None:
    """``(catalog, schema, volume)`` of a ``/Volumes/...`` path, or None for other paths."""
    parts = PurePosixPath(str(path)).parts
    if len(parts) < 5 or parts[:2] != ("/", "Volumes"):
        return None
    return parts[2], parts[3], parts[4]


def ensure_volume(
    settings: MovieRagSettings,
    path: str | Path,
    *,
    local_root: str | Path | None = None,
    comment: str | None = None,
) -> bool:
    """Create the managed volume that ``path`` lies in unless it is already there.

    Args:
        settings: Workspace credentials (``databricks_*`` settings, else the SDK's chain).
        path: A ``/Volumes/<catalog>/<schema>/<volume>/...`` path; other paths are left alone.
        local_root: Where ``/Volumes`` is seen from this process (``/Volumes`` on a
            Databricks driver; tests point it elsewhere).
        comment: Comment of a new volume.

    Returns:
        Whether a volume was created.

    Raises:
        ConfigurationError: The volume is missing and could not be created (the message
            names it and the privilege that creates it).
    """
    names = volume_of(path)
    if names is None:
        return False
    catalog, schema, volume = names
    root = Path(local_root) if local_root is not None else Path("/Volumes")
    if (root / catalog / schema / volume).is_dir():
        return False
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import DatabricksError, ResourceAlreadyExists
    from databricks.sdk.service.catalog import VolumeType

    from movie_rag.workspace import workspace_config

    client = WorkspaceClient(config=workspace_config(settings))
    full_name = f"{catalog}.{schema}.{volume}"
    try:
        client.volumes.create(
            catalog_name=catalog,
            schema_name=schema,
            name=volume,
            volume_type=VolumeType.MANAGED,
            comment=comment,
        )
    except ResourceAlreadyExists:
        return False  # created meanwhile (another task), or not yet visible on this driver
    except DatabricksError as exc:
        raise ConfigurationError(
            f"Unity Catalog volume {full_name} does not exist and could not be created "
            f"({exc}); create it (CREATE VOLUME {full_name}, which needs CREATE VOLUME on "
            f"schema {catalog}.{schema}), or set MOVIE_RAG_COLLAB_PATH to another location"
        ) from exc
    logger.info("created Unity Catalog volume %s", full_name)
    return True
