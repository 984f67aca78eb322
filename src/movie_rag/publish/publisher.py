"""ModelPublisher: the chain as an MLflow model, registered, aliased and served.

The publisher is the facade users call; each concern lives in its own module:

- :mod:`~movie_rag.publish.registry` — names, versions, aliases, the MLflow stores;
- :mod:`~movie_rag.publish.model_spec` — config, signature, requirements of the model;
- :mod:`~movie_rag.publish.artifacts` — what travels inside it, and its fingerprint;
- :mod:`~movie_rag.publish.model_card` — the model card;
- :mod:`~movie_rag.publish.access` — what the served model's identity needs (grants and
  MLflow resources, declared once);
- :mod:`~movie_rag.publish.serving` — the ``Serving`` interface, implemented by
  :class:`~movie_rag.publish.local_serving.LocalServing` and
  :class:`~movie_rag.publish.databricks.DatabricksServing`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import SecretStr

from movie_rag.errors import ConfigurationError
from movie_rag.platform import platform_for
from movie_rag.publish import artifacts as _artifacts
from movie_rag.publish.access import ServedModelAccess
from movie_rag.publish.errors import LocalServerError, ModelNotFoundError, PublishError
from movie_rag.publish.local_serving import LocalServer, LocalServing
from movie_rag.publish.model_card import model_card_summary, render_model_card
from movie_rag.publish.model_spec import (
    flat_params,
    interface_arguments,
    model_signature,
    pip_requirements,
    requirement_name,
)
from movie_rag.publish.model_spec import model_config as _model_config
from movie_rag.publish.registry import (
    DEFAULT_ALIAS,
    DEFAULT_MODEL_NAME,
    FINGERPRINT_TAG,
    LoggedModel,
    ModelRegistry,
    RegisteredVersion,
    Registry,
)
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from movie_rag.publish.access import Grant
    from movie_rag.publish.databricks import (
        DatabricksServing,
        EndpointStatus,
        InferenceTableConfig,
    )

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
    "FINGERPRINT_TAG",
    "LocalServer",
    "LocalServerError",
    "LoggedModel",
    "ModelNotFoundError",
    "ModelPublisher",
    "PublishError",
    "RegisteredVersion",
    "model_signature",
]

logger = logging.getLogger("movie_rag")

Flavour = Literal["local", "databricks"]
#: Kept for callers of the old private helper.
_requirement_name = requirement_name


class ModelPublisher:
    """Log the recommender as an MLflow model, register it, alias it, serve it.

    Args:
        settings: Workdir, backend and chain settings. ``backend`` picks the flavour: a
            ``local`` model carries its index and catalogue, a ``databricks`` model queries
            Vector Search.
        registry: ``local`` (sqlite under ``Workdir.mlflow``) or ``databricks-uc``.
        tracking_uri: Override the tracking store (default: the local sqlite store, or
            ``databricks`` for Unity Catalog).
        experiment: Experiment name (a workspace path such as ``/Shared/movie_rag`` on
            Databricks).
        flavour: Override the flavour chosen from ``settings.backend``.

    Example:
        Instantiate, publish (log, register, alias) and serve locally:

        >>> from movie_rag import MovieRagSettings
        >>> from movie_rag.publish import ModelPublisher
        >>> publisher = ModelPublisher(MovieRagSettings(workdir="/tmp/movie_rag_example"))
        >>> version = publisher.publish()  # doctest: +SKIP
        >>> publisher.by_alias("champion").version  # doctest: +SKIP
        '1'
        >>> with publisher.serve_local(port=5000) as server:  # doctest: +SKIP
        ...     print(server.url)
        http://127.0.0.1:5000

        Unity Catalog names are validated before anything talks to a workspace:

        >>> ModelPublisher(registry="databricks-uc").qualified_name("main.models.movie_rag")
        'main.models.movie_rag'
    """

    def __init__(
        self,
        settings: MovieRagSettings | None = None,
        *,
        registry: Registry = "local",
        tracking_uri: str | None = None,
        experiment: str | None = None,
        flavour: Flavour | None = None,
    ) -> None:
        self.settings = settings if settings is not None else MovieRagSettings()
        self.models = ModelRegistry(
            self.settings, registry, tracking_uri=tracking_uri, experiment=experiment
        )
        self.workdir = Workdir(self.settings.workdir)
        self.registry: Registry = registry
        # The flavour is the platform the served model runs on (settings.backend by default).
        target = {} if flavour is None else {"backend": flavour}
        self.platform = platform_for(self.settings.model_copy(update=target))
        self.flavour: Flavour = self.platform.name
        self.tracking_uri = self.models.tracking_uri
        self.registry_uri = self.models.registry_uri
        self.experiment = self.models.experiment
        self.artifact_location = self.models.artifact_location
        self.local_serving = LocalServing(self.models)
        self._last_logged: LoggedModel | None = None

    def __repr__(self) -> str:
        return (
            f"ModelPublisher(registry={self.registry!r}, flavour={self.flavour!r}, "
            f"tracking_uri={self.tracking_uri!r})"
        )

    # -- what is logged ------------------------------------------------------------------

    def qualified_name(self, name: str = DEFAULT_MODEL_NAME) -> str:
        """The registered name (see :meth:`ModelRegistry.qualified_name`)."""
        return self.models.qualified_name(name)

    def model_config(self) -> dict[str, Any]:
        """The model config logged with the model: settings values, never secrets."""
        return _model_config(self.settings, self.flavour)

    def pip_requirements(self) -> list[str]:
        """Explicit pip requirements of the served model (see :mod:`.model_spec`)."""
        return pip_requirements(self.settings, self.flavour)

    def access(self) -> ServedModelAccess | None:
        """What the served Databricks-flavour model reaches; None for the local flavour."""
        if self.platform.is_local:
            return None
        return ServedModelAccess.from_settings(self.settings)

    def resources(self) -> list[Any]:
        """Databricks resources the served model reaches (for automatic auth passthrough)."""
        access = self.access()
        return access.resources() if access is not None else []

    def log(
        self,
        *,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        run_name: str | None = None,
        check_endpoints: bool | None = None,
        serving: DatabricksServing | None = None,
    ) -> LoggedModel:
        """Log the model (code, config, artifacts, signature, input example) in a new run.

        When the build trained a collaborative model (and ``settings.collab_enabled``), its
        live version travels as the ``collab`` artifact (see :meth:`collab_source`), so the
        served chain ranks and personalises like ``RecommenderChain.from_settings``.

        Args:
            movies_info: The catalogue (an Arrow table or a table directory); default the
                workdir's movies_info. On Databricks, export the Unity Catalog table first
                (``movie_rag.spark.spark_to_arrow(spark.table(name))``).
            index_dir: The local index directory (local flavour); default the workdir's.
            run_name: Name of the MLflow run.
            check_endpoints: Check that the serving endpoints a Databricks-flavour model
                calls (embeddings, LLM) exist before logging; default: when the registry is
                Unity Catalog or ``serving`` is given.
            serving: The workspace client for that check; default :meth:`databricks_serving`.

        Returns:
            The logged model.

        Raises:
            InputFileError: No built catalogue or index.
            ServingConfigError: An endpoint the model calls does not exist (nothing logged).
        """
        import mlflow

        access = self.access()
        if check_endpoints is None:
            check_endpoints = self.registry == "databricks-uc" or serving is not None
        if access is not None and check_endpoints:
            (serving or self.databricks_serving()).check_endpoints_exist(access.endpoints)
        with tempfile.TemporaryDirectory(prefix="movie_rag_model_") as tmp:
            staging = Path(tmp)
            table = _artifacts.public_catalogue(self._catalogue(movies_info))
            artifacts = {"movies_info": str(staging / "movies_info")}
            (staging / "movies_info").mkdir()
            pq.write_table(table, staging / "movies_info" / "movies_info.parquet")
            manifest: dict[str, Any] = {}
            if self.platform.is_local:
                manifest = _artifacts.copy_live_index(
                    Path(index_dir) if index_dir is not None else self.workdir.index,
                    staging / "index",
                )
                artifacts["index"] = str(staging / "index")
            collab_manifest: dict[str, Any] | None = None
            collab_source = self.collab_source()
            if collab_source is not None:
                collab_manifest = _artifacts.copy_live_collab(collab_source, staging / "collab")
                artifacts["collab"] = str(staging / "collab")
            config = self.model_config()
            fingerprint = _artifacts.fingerprint(config, table, manifest, collab_manifest)
            card = staging / "MODEL_CARD.md"
            card.write_text(
                self.model_card(table.num_rows, manifest, collab_manifest), encoding="utf-8"
            )
            artifacts["model_card"] = str(card)
            code = _artifacts.copy_package(staging / "code" / "movie_rag")
            with self.tracking():
                experiment_id = self.models.experiment_id()
                with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
                    mlflow.set_tags({FINGERPRINT_TAG: fingerprint, "flavour": self.flavour})
                    mlflow.log_params(flat_params(config))
                    info = mlflow.pyfunc.log_model(
                        name="model",
                        model_config=config,
                        artifacts=artifacts,
                        code_paths=[str(code)],
                        pip_requirements=self.pip_requirements(),
                        **interface_arguments(self.settings.serving_interface),
                        resources=self.resources() or None,
                        metadata={"flavour": self.flavour, FINGERPRINT_TAG: fingerprint},
                    )
        logged = LoggedModel(
            model_uri=info.model_uri,
            run_id=run.info.run_id,
            flavour=self.flavour,
            fingerprint=fingerprint,
        )
        self._last_logged = logged
        logger.info("logged %s (run %s)", logged.model_uri, logged.run_id)
        return logged

    def collab_source(self) -> Path | None:
        """The collaborative model directory the published model ships, or None.

        The same directory ``RecommenderChain.from_settings`` opens:
        :func:`~movie_rag.collab.model.collab_location` of the settings, that is
        ``settings.collab_path`` when set, else ``<workdir>/collab`` for the local backend
        and the Unity Catalog volume ``/Volumes/<catalog>/<silver_schema>/collab`` for the
        Databricks backend (publish on a cluster, where volumes are files). Both flavours
        ship a copy of its live version, since a serving endpoint reads neither the workdir
        nor volumes. None when ``collab_enabled`` is off or no build trained a model there:
        the served chain then ranks on content alone.
        """
        from movie_rag.collab.model import collab_location, live_version

        if not self.settings.collab_enabled:
            return None
        location = collab_location(self.settings)
        return location if live_version(location) is not None else None

    def model_card(
        self,
        movies: int,
        manifest: Mapping[str, Any] | None = None,
        collab_manifest: Mapping[str, Any] | None = None,
    ) -> str:
        """The model card: what the model does, how to call it, and the data licences."""
        return render_model_card(self.settings, self.flavour, movies, manifest, collab_manifest)

    def model_card_summary(self) -> str:
        """The short description registered with each version (licences included)."""
        return model_card_summary(self.flavour)

    def fingerprint(
        self,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
    ) -> str:
        """The fingerprint :meth:`log` would record for the current config and data."""
        table = _artifacts.public_catalogue(self._catalogue(movies_info))
        manifest: dict[str, Any] = {}
        if self.platform.is_local:
            source = Path(index_dir) if index_dir is not None else self.workdir.index
            manifest = _artifacts.live_manifest(source)[1]
        collab_manifest: dict[str, Any] | None = None
        collab_source = self.collab_source()
        if collab_source is not None:
            from movie_rag.collab.model import current_manifest

            collab_manifest = current_manifest(collab_source)
        return _artifacts.fingerprint(self.model_config(), table, manifest, collab_manifest)

    # -- registry ------------------------------------------------------------------------

    def register(
        self, name: str = DEFAULT_MODEL_NAME, model_uri: str | None = None
    ) -> RegisteredVersion:
        """Register a logged model as a new version of ``name``.

        Args:
            name: Registered model name (bare or three-level for Unity Catalog).
            model_uri: What to register; default the model :meth:`log` logged last.

        Returns:
            The new version.
        """
        logged = self._last_logged
        if model_uri is None:
            if logged is None:
                raise PublishError("nothing to register: call log() first, or pass model_uri")
            model_uri = logged.model_uri
        tags: dict[str, str] = {}
        if logged is not None and logged.model_uri == model_uri:
            tags = {FINGERPRINT_TAG: logged.fingerprint, "flavour": logged.flavour}
        return self.models.register(
            name,
            model_uri,
            tags=tags,
            run_tags=(FINGERPRINT_TAG, "flavour"),
            description=self.model_card_summary(),
        )

    def set_alias(
        self,
        alias: str = DEFAULT_ALIAS,
        version: str | int | None = None,
        *,
        name: str = DEFAULT_MODEL_NAME,
    ) -> RegisteredVersion:
        """Point ``alias`` at ``version`` (default the latest version)."""
        return self.models.set_alias(alias, version, name=name)

    def version(self, version: str | int, *, name: str = DEFAULT_MODEL_NAME) -> RegisteredVersion:
        """One registered version (ModelNotFoundError when there is none)."""
        return self.models.version(version, name=name)

    def latest(self, name: str = DEFAULT_MODEL_NAME) -> RegisteredVersion | None:
        """The highest version of ``name``, or None when it has none."""
        return self.models.latest(name)

    def by_alias(
        self, alias: str = DEFAULT_ALIAS, name: str = DEFAULT_MODEL_NAME
    ) -> RegisteredVersion:
        """The version ``alias`` points at (ModelNotFoundError when there is none)."""
        return self.models.by_alias(alias, name)

    def publish(
        self,
        name: str = DEFAULT_MODEL_NAME,
        alias: str = DEFAULT_ALIAS,
        *,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        force: bool = False,
        serving: DatabricksServing | None = None,
    ) -> RegisteredVersion:
        """Log, register and alias the model: the whole release in one call.

        Idempotent: when ``alias`` already points at a version built from the same config and
        data (same fingerprint), that version is returned and nothing new is logged.

        Args:
            name: Registered model name.
            alias: Alias to move to the new version.
            movies_info: The catalogue (see :meth:`log`).
            index_dir: The local index directory (see :meth:`log`).
            force: Publish a new version even when nothing changed.
            serving: Workspace client for the endpoint check of :meth:`log`.

        Returns:
            The version ``alias`` points at.
        """
        name = self.qualified_name(name)
        table = self._catalogue(movies_info)  # read once for the fingerprint and the log
        if not force:
            with contextlib.suppress(ModelNotFoundError):
                current = self.by_alias(alias, name)
                wanted = self.fingerprint(table, index_dir)
                if current.tags.get(FINGERPRINT_TAG) == wanted:
                    logger.info(
                        "%s@%s is already this model (version %s)", name, alias, current.version
                    )
                    return current
        logged = self.log(movies_info=table, index_dir=index_dir, serving=serving)
        version = self.register(name, logged.model_uri)
        return self.set_alias(alias, version.version, name=name)

    # -- local serving -------------------------------------------------------------------

    def serve_local(
        self,
        model_uri: str | None = None,
        *,
        port: int = 5000,
        host: str = "127.0.0.1",
        workers: int = 1,
        timeout: float = 180.0,
        request_timeout: int = 60,
        inference_log: str | os.PathLike[str] | None = None,
    ) -> LocalServer:
        """Serve a registered model over HTTP: MLflow's scoring server (``mlflow models serve``).

        Every request and response is appended to the inference log (default
        ``Workdir.inference_logs``).

        Args:
            model_uri: Default ``models:/movie_rag@champion``.
            port: Port to listen on; 0 picks a free one.
            host: Interface to bind (loopback by default).
            workers: uvicorn worker processes (each loads the model).
            timeout: Seconds to wait for the server to get ready.
            request_timeout: Seconds a request may take.
            inference_log: Directory of the inference log.

        Returns:
            The running server, ready for requests.

        Raises:
            ModelNotFoundError: The URI names a model, version or alias that is not
                registered.
            LocalServerError: The server did not start.
        """
        model_uri = model_uri or f"models:/{self.qualified_name()}@{DEFAULT_ALIAS}"
        return self.local_serving.serve(
            model_uri,
            port=port,
            host=host,
            workers=workers,
            timeout=timeout,
            request_timeout=request_timeout,
            inference_log=inference_log,
        )

    def serving_environment(self, model_uri: str, log_dir: Path) -> dict[str, str]:
        """Environment of a local model server."""
        return self.local_serving.environment(model_uri, log_dir)

    # -- Databricks serving --------------------------------------------------------------

    def databricks_serving(
        self,
        host: str | None = None,
        token: SecretStr | None = None,
        *,
        poll_interval: float = 10.0,
        timeout: float = 1200.0,
    ) -> DatabricksServing:
        """A client for serving endpoints, secrets and grants of the settings' workspace.

        Credentials follow the unified auth chain (notebook, Model Serving, Databricks Apps,
        OAuth M2M, profiles, PAT); ``host``, ``token`` and the ``databricks_*`` settings
        override it.

        Raises:
            WorkspaceAuthError: No usable credentials (the message says where it looked).
        """
        from movie_rag.publish.databricks import DatabricksServing

        serving = DatabricksServing(
            host, token, settings=self.settings, poll_interval=poll_interval, timeout=timeout
        )
        serving.host  # noqa: B018 - resolve the credentials now, so a missing one fails here
        return serving

    def secrets_to_publish(self) -> dict[str, SecretStr]:
        """The secrets the served model needs, by the environment variable that carries them."""
        secrets: dict[str, SecretStr] = {}
        if self.settings.llm_api_key is not None:
            secrets["MOVIE_RAG_LLM_API_KEY"] = self.settings.llm_api_key
        return secrets

    def serving_environment_vars(self) -> dict[str, str]:
        """Plain environment of the Databricks endpoint: traces go to the experiment."""
        with self.tracking():
            experiment_id = self.models.experiment_id()
        return {"ENABLE_MLFLOW_TRACING": "true", "MLFLOW_EXPERIMENT_ID": experiment_id}

    def deploy_databricks(
        self,
        endpoint_name: str,
        *,
        name: str = DEFAULT_MODEL_NAME,
        version: str | int | None = None,
        alias: str = DEFAULT_ALIAS,
        workload_size: str = "Small",
        scale_to_zero: bool = True,
        secret_scope: str | None = "movie_rag",
        secrets: Mapping[str, SecretStr] | None = None,
        environment_vars: Mapping[str, str] | None = None,
        inference_table: InferenceTableConfig | None = None,
        grant_to: str | None = None,
        serving: DatabricksServing | None = None,
    ) -> EndpointStatus:
        """Create or update a Databricks serving endpoint for a registered version.

        First the endpoint's identity gets what the served model uses
        (:meth:`ServedModelAccess.grants`: USE CATALOG/USE SCHEMA/SELECT on the Vector
        Search index, CAN QUERY on endpoints that are not Foundation Model endpoints, READ
        VOLUME on the collab volume). Secrets go to a secret scope and reach the endpoint
        only as ``{{secrets/...}}`` references; ``ENABLE_MLFLOW_TRACING`` and
        ``MLFLOW_EXPERIMENT_ID`` send its traces to the experiment. The endpoint is updated
        only when its config differs.

        Args:
            endpoint_name: Serving endpoint name.
            name: Registered model (Unity Catalog).
            version: Version to serve; default the one ``alias`` points at.
            alias: Alias used when no version is given.
            workload_size: ``Small``, ``Medium`` or ``Large``.
            scale_to_zero: Let the endpoint scale to zero when idle.
            secret_scope: Scope for the secrets.
            secrets: Secrets by environment variable name; default
                :meth:`secrets_to_publish`.
            environment_vars: Other (non-secret) environment variables (win over the
                tracing ones).
            inference_table: Where the AI Gateway logs requests and responses.
            grant_to: The endpoint's identity; default the deploying identity (whose
                credentials automatic auth passthrough uses).
            serving: A ready client; default :meth:`databricks_serving`.

        Returns:
            The endpoint's status once ready.
        """
        name = self.qualified_name(name)
        target = str(version) if version is not None else self.by_alias(alias, name).version
        serving = serving or self.databricks_serving()
        access = self.access()
        if access is not None:
            serving.grant(grant_to or serving.current_principal(), access)
        env = dict(environment_vars or {})
        if "MLFLOW_EXPERIMENT_ID" in env:  # the caller named the experiment (the job does)
            env.setdefault("ENABLE_MLFLOW_TRACING", "true")
        else:
            env = {**self.serving_environment_vars(), **env}
        secrets = dict(secrets) if secrets is not None else self.secrets_to_publish()
        if secrets:
            if not secret_scope:
                raise ConfigurationError("secrets need a secret_scope to be stored in")
            env.update(serving.ensure_secret_scope(secret_scope, secrets))
        return serving.deploy(
            endpoint_name,
            name,
            target,
            workload_size=workload_size,
            scale_to_zero=scale_to_zero,
            environment_vars=env,
            inference_table=inference_table,
        )

    def grant_access(
        self, principal: str, *, serving: DatabricksServing | None = None
    ) -> list[Grant]:
        """Give ``principal`` exactly what the served model uses; returns what was added."""
        access = self.access() or ServedModelAccess.from_settings(self.settings)
        return (serving or self.databricks_serving()).grant(principal, access)

    def grant_read(
        self,
        principal: str,
        tables: Sequence[str] | None = None,
        *,
        serving: DatabricksServing | None = None,
    ) -> None:
        """Grant a principal USE CATALOG, USE SCHEMA and SELECT on tables of the schema.

        Args:
            principal: User, group or service principal (application id).
            tables: Tables in ``settings.catalog.silver_schema``; default movies_info.
            serving: A ready client; default :meth:`databricks_serving`.
        """
        serving = serving or self.databricks_serving()
        serving.grant_read(
            principal,
            self.settings.catalog,
            self.settings.silver_schema,
            list(tables or [self.settings.movies_info_table]),
        )

    def teardown_databricks(
        self, endpoint_name: str, *, serving: DatabricksServing | None = None
    ) -> None:
        """Delete a Databricks serving endpoint."""
        (serving or self.databricks_serving()).teardown(endpoint_name)

    # -- MLflow plumbing -----------------------------------------------------------------

    @contextlib.contextmanager
    def tracking(self) -> Iterator[None]:
        """Point MLflow's process-wide URIs at this publisher's stores, then restore them.

        Example:
            >>> with publisher.tracking():  # doctest: +SKIP
            ...     mlflow.artifacts.download_artifacts("models:/movie_rag@champion")
        """
        with self.models.tracking():
            yield

    def client(self) -> MlflowClient:
        """An MLflow client on this publisher's tracking store and registry."""
        return self.models.client()

    def _catalogue(self, movies_info: pa.Table | str | os.PathLike[str] | None) -> pa.Table:
        from movie_rag.index._table import read_table

        if movies_info is None and not platform_for(self.settings).is_local:
            # The Unity Catalog table (what the job's publish task serves from).
            from movie_rag.spark import get_spark, spark_to_arrow
            from movie_rag.tables import TableStore

            store = TableStore(get_spark(self.settings), self.settings)
            return spark_to_arrow(store.read(self.settings.movies_info_table))
        if movies_info is None:
            movies_info = self.workdir.table(self.settings.movies_info_table)
        return read_table(movies_info)
