"""The model registry: names, versions, aliases and the MLflow stores behind them.

Local registry: a sqlite tracking and registry store under ``Workdir.mlflow`` with an
explicit artifact location beside it, so everything works offline. Unity Catalog
(``databricks-uc``) takes three-level names; that path needs a workspace (only its name
validation runs offline).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from movie_rag.errors import ConfigurationError
from movie_rag.publish.errors import ModelNotFoundError
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "FINGERPRINT_TAG",
    "LoggedModel",
    "ModelRegistry",
    "RegisteredVersion",
    "Registry",
]

logger = logging.getLogger("movie_rag")

DEFAULT_MODEL_NAME = "movie_rag"
DEFAULT_ALIAS = "champion"
FINGERPRINT_TAG = "movie_rag.fingerprint"

Registry = Literal["local", "databricks-uc"]

_UC_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class LoggedModel(BaseModel):
    """A logged (not yet registered) model.

    Attributes:
        model_uri: URI to load or register it from (``models:/m-...``).
        run_id: The MLflow run it was logged in.
        flavour: ``local`` (index and catalogue inside) or ``databricks``.
        fingerprint: Digest of config and data; equal fingerprints mean equal models.
    """

    model_uri: str
    run_id: str
    flavour: str
    fingerprint: str


class RegisteredVersion(BaseModel):
    """One version of a registered model.

    Attributes:
        name: Registered model name (three-level in Unity Catalog).
        version: Version number, as a string.
        model_uri: ``models:/<name>/<version>``.
        source: Where the version's files are.
        run_id: The run that logged it.
        aliases: Aliases pointing at it (``champion``).
        tags: Version tags (``movie_rag.fingerprint``, ``flavour``).
    """

    name: str
    version: str
    model_uri: str
    source: str = ""
    run_id: str | None = None
    aliases: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_mlflow(cls, version: ModelVersion) -> RegisteredVersion:
        """Convert MLflow's ModelVersion."""
        return cls(
            name=version.name,
            version=str(version.version),
            model_uri=f"models:/{version.name}/{version.version}",
            source=version.source or "",
            run_id=version.run_id,
            aliases=list(version.aliases or []),
            tags=dict(version.tags or {}),
        )


class ModelRegistry:
    """Registered models, versions and aliases in a local or Unity Catalog registry.

    Args:
        settings: ``workdir`` (the local stores), ``catalog`` and ``silver_schema`` (the
            default place of a bare name in Unity Catalog).
        registry: ``local`` (sqlite under ``Workdir.mlflow``) or ``databricks-uc``.
        tracking_uri: Override the tracking store.
        experiment: Experiment name (a workspace path such as ``/Shared/movie_rag`` on
            Databricks).

    Example:
        >>> ModelRegistry(MovieRagSettings(), "databricks-uc").qualified_name("main.m.movie_rag")
        'main.m.movie_rag'
    """

    def __init__(
        self,
        settings: MovieRagSettings,
        registry: Registry = "local",
        *,
        tracking_uri: str | None = None,
        experiment: str | None = None,
    ) -> None:
        if registry not in ("local", "databricks-uc"):
            raise ConfigurationError(
                f"registry must be 'local' or 'databricks-uc', got {registry!r}"
            )
        self.settings = settings
        self.workdir = Workdir(settings.workdir)
        self.registry: Registry = registry
        if registry == "local":
            self.tracking_uri = tracking_uri or f"sqlite:///{self.workdir.mlflow / 'mlflow.db'}"
            self.registry_uri = self.tracking_uri
            self.experiment = experiment or "movie_rag"
        else:
            # Settings may point both stores elsewhere (an offline run of this path).
            self.tracking_uri = tracking_uri or settings.mlflow_tracking_uri or "databricks"
            self.registry_uri = settings.mlflow_registry_uri or "databricks-uc"
            self.experiment = experiment or "/Shared/movie_rag"
        self.artifact_location = (self.workdir.mlflow / "artifacts").as_uri()

    def __repr__(self) -> str:
        return f"ModelRegistry({self.registry!r}, tracking_uri={self.tracking_uri!r})"

    def qualified_name(self, name: str = DEFAULT_MODEL_NAME) -> str:
        """The registered name: as given locally, ``catalog.schema.model`` in Unity Catalog.

        A bare name in Unity Catalog goes under ``settings.catalog`` and
        ``settings.silver_schema``.

        Raises:
            ConfigurationError: The name is not valid for the registry.
        """
        name = name.strip()
        if self.registry == "local":
            if not _LOCAL_NAME.match(name):
                raise ConfigurationError(
                    f"model name {name!r} is not valid: use letters, digits, '_', '.' or '-'"
                )
            return name
        parts = name.split(".")
        if len(parts) == 1:
            parts = [self.settings.catalog, self.settings.silver_schema, name]
        if len(parts) != 3 or not all(_UC_PART.match(part) for part in parts):
            raise ConfigurationError(
                f"Unity Catalog model name {name!r} is not valid: it needs three parts, "
                "<catalog>.<schema>.<model>, each of letters, digits and underscores not "
                "starting with a digit (e.g. main.movie_rag.movie_rag)"
            )
        return ".".join(parts)

    def register(
        self,
        name: str,
        model_uri: str,
        *,
        tags: Mapping[str, str] | None = None,
        run_tags: tuple[str, ...] = (),
        description: str = "",
    ) -> RegisteredVersion:
        """Register ``model_uri`` as a new version of ``name``, with tags and a description.

        Args:
            name: Registered model name.
            model_uri: What to register.
            tags: Version tags.
            run_tags: Tags to copy from the run that logged the model (when ``tags`` lacks
                them).
            description: Description of the version and of the model.
        """
        import mlflow

        name = self.qualified_name(name)
        with self.tracking():
            version = mlflow.register_model(model_uri, name)
            client = self.client()
            copied = self.run_tags(version.run_id, run_tags) if run_tags else {}
            for key, value in {**copied, **(tags or {})}.items():
                client.set_model_version_tag(name, version.version, key, value)
            if description:
                client.update_model_version(name, version.version, description=description)
                client.update_registered_model(name, description=description)
            registered = client.get_model_version(name, version.version)
        logger.info("registered %s version %s", name, registered.version)
        return RegisteredVersion.from_mlflow(registered)

    def run_tags(self, run_id: str | None, keys: tuple[str, ...]) -> dict[str, str]:
        """The tags ``keys`` of the run that logged a model (missing ones left out)."""
        if not run_id:
            return {}
        tags = self.client().get_run(run_id).data.tags
        return {key: tags[key] for key in keys if key in tags}

    def set_alias(
        self, alias: str = DEFAULT_ALIAS, version: str | int | None = None, *, name: str
    ) -> RegisteredVersion:
        """Point ``alias`` at ``version`` (default the latest version)."""
        name = self.qualified_name(name)
        target = str(version) if version is not None else self.require_latest(name).version
        with self.tracking():
            self.client().set_registered_model_alias(name, alias, target)
        logger.info("alias %s@%s -> version %s", name, alias, target)
        return self.version(target, name=name)

    def version(self, version: str | int, *, name: str = DEFAULT_MODEL_NAME) -> RegisteredVersion:
        """One registered version.

        Raises:
            ModelNotFoundError: No such model or version.
        """
        from mlflow.exceptions import MlflowException

        name = self.qualified_name(name)
        with self.tracking():
            try:
                found = self.client().get_model_version(name, str(version))
            except MlflowException as exc:
                raise ModelNotFoundError(
                    f"model {name!r} has no version {version} in {self.registry_uri}: {exc.message}"
                ) from None
        return RegisteredVersion.from_mlflow(found)

    def latest(self, name: str = DEFAULT_MODEL_NAME) -> RegisteredVersion | None:
        """The highest version of ``name``, or None when it has none."""
        name = self.qualified_name(name)
        with self.tracking():
            versions = self.client().search_model_versions(f"name = '{name}'")
        if not versions:
            return None
        newest = max(versions, key=lambda v: int(v.version))
        return self.version(newest.version, name=name)

    def require_latest(self, name: str) -> RegisteredVersion:
        """:meth:`latest`, or ModelNotFoundError when ``name`` has no version."""
        latest = self.latest(name)
        if latest is None:
            raise ModelNotFoundError(f"model {name!r} has no versions in {self.registry_uri}")
        return latest

    def by_alias(
        self, alias: str = DEFAULT_ALIAS, name: str = DEFAULT_MODEL_NAME
    ) -> RegisteredVersion:
        """The version ``alias`` points at.

        Raises:
            ModelNotFoundError: The model or the alias does not exist.
        """
        from mlflow.exceptions import MlflowException

        name = self.qualified_name(name)
        with self.tracking():
            try:
                found = self.client().get_model_version_by_alias(name, alias)
            except MlflowException:
                raise ModelNotFoundError(
                    f"no version of model {name!r} has the alias {alias!r} in "
                    f"{self.registry_uri}; publish one with `movie-rag publish --name {name} "
                    f"--alias {alias}`"
                ) from None
        return RegisteredVersion.from_mlflow(found)

    def check_model_uri(self, model_uri: str) -> None:
        """Raise ModelNotFoundError when a ``models:/`` URI names nothing registered."""
        if not model_uri.startswith("models:/"):
            return
        reference = model_uri.removeprefix("models:/")
        if "@" in reference:
            name, alias = reference.split("@", 1)
            self.by_alias(alias, name)
        elif "/" in reference:
            name, version = reference.rsplit("/", 1)
            if version != "latest":
                self.version(version, name=name)
            elif self.latest(name) is None:
                raise ModelNotFoundError(f"model {name!r} has no versions in {self.registry_uri}")

    @contextlib.contextmanager
    def tracking(self) -> Iterator[None]:
        """Point MLflow's process-wide URIs at this registry's stores, then restore them."""
        import mlflow

        if self.registry == "local":
            self.workdir.mlflow.mkdir(parents=True, exist_ok=True)
        previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_registry_uri(self.registry_uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(previous[0])
            mlflow.set_registry_uri(previous[1])

    def client(self) -> MlflowClient:
        """An MLflow client on this registry's tracking store and registry."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    def experiment_id(self) -> str:
        """The experiment's id, created (with the local artifact location) when missing."""
        client = self.client()
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = self.artifact_location if self.registry == "local" else None
        return str(client.create_experiment(self.experiment, artifact_location=location))
