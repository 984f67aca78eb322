"""The Databricks flavour where Databricks runs it: Model Serving and a notebook, emulated.

* **Serving container**: the logged Databricks-flavour model runs in a *subprocess* with the
  environment Model Serving gives a served model (databricks-sdk ``ModelServingAuthProvider``:
  ``IS_IN_DB_MODEL_SERVING_ENV``, the host in ``DB_MODEL_SERVING_HOST_URL``, the OAuth token
  in ``$SERVING_CREDENTIALS_DIR/model-dependencies-oauth-token``), no ``DATABRICKS_*`` or
  ``MOVIE_RAG_*`` variable, and on ``sys.path`` only the standard library and the
  distributions the model's ``requirements.txt`` names (with what they require, resolved
  from the installed metadata; ``python -S`` keeps the venv's site-packages out). It answers
  the seed UI's ``dataframe_split`` request through MLflow's own scoring server app.
* **Notebook**: a subprocess with ``DATABRICKS_RUNTIME_VERSION`` and the notebook's
  credentials where databricks-sdk reads them (``dbruntime.sdk_credential_provider``, the
  module a Databricks runtime provides), and no token setting, deploys against the serving
  emulator.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from publish_helpers import post

pytest.importorskip("databricks.sdk")

from emulators.serving import ServingEmulator
from emulators.vector_search import VectorSearchEmulator
from movie_rag.publish import ModelPublisher
from movie_rag.publish.model_spec import requirement_name
from movie_rag.settings import MovieRagSettings

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "index"))
from sample_movies import movie_rows, to_table  # noqa: E402

SERVING_TOKEN = "model-serving-oauth-token-4b1d"
NOTEBOOK_TOKEN = "notebook-context-token-91ce"
SERVED_PRINCIPAL = "3a9e0c1d-5b7f-4e2a-9c8d-1f2e3a4b5c6d"
TABLE = "main.movie_rag.movies_info"
SEED_QUERY = "I liked 'Jurassic Park'. Can you suggest some movies similar?"


def _clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without any Databricks or movie_rag credential or setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "MOVIE_RAG_", "DB_MODEL_SERVING", "IS_IN_D", "MLFLOW_"))
        and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the logged model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def vector_search(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorSearchEmulator]:
    """The Vector Search index the served model queries, built with managed embeddings."""
    import pyarrow.parquet as pq

    from movie_rag.index.databricks import DatabricksVectorIndex

    root = tmp_path_factory.mktemp("uc")
    with VectorSearchEmulator(token="builder-pat-0d1e") as workspace:
        # The token Model Serving mounts belongs to the endpoint's identity.
        workspace.add_identity(SERVING_TOKEN, SERVED_PRINCIPAL, "model-serving")
        (root / "movies_info").mkdir()
        pq.write_table(to_table(movie_rows()), root / "movies_info" / "part-00000.parquet")
        workspace.register_table(TABLE, root / "movies_info")
        settings = MovieRagSettings(
            backend="databricks",
            catalog="main",
            silver_schema="movie_rag",
            databricks_host=workspace.url,
            databricks_token=workspace.token,
        )
        index = DatabricksVectorIndex.from_settings(settings, poll_interval=0.01, timeout=20)
        index.build(TABLE)
        yield workspace


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Databricks-flavour model, logged offline and downloaded as serving would."""
    import mlflow

    root = tmp_path_factory.mktemp("databricks_model")
    settings = MovieRagSettings(
        workdir=root / "workdir",
        backend="databricks",
        catalog="main",
        silver_schema="movie_rag",
        llm_provider="none",
        collab_enabled=False,
    )
    publisher = ModelPublisher(settings)
    logged = publisher.log(movies_info=to_table(movie_rows()), check_endpoints=False)
    with publisher.tracking():
        return Path(
            mlflow.artifacts.download_artifacts(logged.model_uri, dst_path=str(root / "model"))
        )


def _distribution_closure(requirements: list[str]) -> set[str]:
    """The installed distributions the requirements need, transitively (no extras)."""
    from packaging.requirements import Requirement

    wanted = [Requirement(r) for r in requirements]
    seen: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional platform dependency that is not installed here
        seen.add(name)
        for raw in dist.requires or []:
            dependency = Requirement(raw)
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                wanted.append(dependency)
    return seen


def _site_of(distributions: set[str], target: Path) -> Path:
    """A directory holding only these distributions (symlinks into site-packages)."""
    target.mkdir()
    for name in sorted(distributions):
        dist = metadata.distribution(name)
        base = Path(str(dist.locate_file("")))
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            link = target / top
            if not link.exists() and (base / top).exists():
                link.symlink_to(base / top)
    return target


_LAUNCHER = textwrap.dedent(
    """
    import importlib.metadata, json, sys
    import mlflow.pyfunc
    import uvicorn
    from mlflow.pyfunc import scoring_server

    app = scoring_server.init(mlflow.pyfunc.load_model(sys.argv[1]))

    @app.get("/imported")
    def imported():
        # Distributions whose modules the served model has imported so far.
        owners = importlib.metadata.packages_distributions()
        names = {sys.modules[m].__name__.partition(".")[0] for m in list(sys.modules)}
        dists = sorted({d for n in names for d in owners.get(n, [])})
        return {"distributions": dists, "sys_path": sys.path}

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    """
)


@pytest.fixture(scope="module")
def serving_container(
    model_dir: Path, vector_search: VectorSearchEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The logged model served in a subprocess with the Model Serving environment."""
    root = tmp_path_factory.mktemp("container")
    requirements = (model_dir / "requirements.txt").read_text().split()
    site = _site_of(_distribution_closure(requirements), root / "site")
    credentials = root / "credentials"
    credentials.mkdir()
    (credentials / "model-dependencies-oauth-token").write_text(
        json.dumps({"OAUTH_TOKEN": [{"oauthTokenValue": SERVING_TOKEN}]}), encoding="utf-8"
    )
    (root / "home").mkdir()
    launcher = root / "serve.py"
    launcher.write_text(_LAUNCHER, encoding="utf-8")
    port = _free_port()
    env = _clean_environment(
        HOME=str(root / "home"),
        PYTHONPATH=str(site),
        PYTHONNOUSERSITE="1",
        IS_IN_DB_MODEL_SERVING_ENV="true",
        DB_MODEL_SERVING_HOST_URL=vector_search.url,
        SERVING_CREDENTIALS_DIR=str(credentials),
        HF_HUB_OFFLINE="1",
    )
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-S", str(launcher), str(model_dir), str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"the served model exited: {(root / 'server.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/ping", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"not ready: {(root / 'server.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def test_the_serving_container_answers_the_seed_ui_request_with_no_token_anywhere(
    serving_container: str, vector_search: VectorSearchEmulator, model_dir: Path
) -> None:
    before = len(vector_search.requests)
    status, body = post(
        f"{serving_container}/invocations",
        {"dataframe_split": {"columns": ["query"], "data": [[SEED_QUERY]]}},
    )
    assert status == 200, body
    [answer] = body["predictions"]
    assert isinstance(answer, str) and answer.strip()
    # It asked Vector Search as the endpoint's identity, with the mounted token.
    queried = [r for r in vector_search.requests[before:] if r.path.endswith("/query")]
    assert queried
    assert {(r.principal, r.credential) for r in queried} == {(SERVED_PRINCIPAL, "model-serving")}

    with urllib.request.urlopen(f"{serving_container}/imported", timeout=10) as reply:
        seen = json.loads(reply.read())
    requirements = (model_dir / "requirements.txt").read_text().split()
    declared = {requirement_name(r) for r in requirements}
    imported = {d.lower().replace("_", "-") for d in seen["distributions"]}
    # Every declared requirement is something the served model imports...
    assert declared <= imported, declared - imported
    # ...and nothing but the standard library and those distributions was on the path.
    assert not [p for p in seen["sys_path"] if "site-packages" in p]


# -- a notebook ------------------------------------------------------------------------------

_NOTEBOOK_RUNTIME = textwrap.dedent(
    """
    # What a Databricks runtime provides to databricks-sdk: the notebook's host and token.
    import os


    def init_runtime_native_unified():
        host = os.environ["EMULATED_NOTEBOOK_HOST"]
        token = open(os.environ["EMULATED_NOTEBOOK_TOKEN_FILE"]).read().strip()

        def inner():
            return {"Authorization": f"Bearer {token}"}

        return host, None, None, inner
    """
)

_DEPLOY = textwrap.dedent(
    """
    import json, sys
    from movie_rag.publish import ModelPublisher
    from movie_rag.settings import MovieRagSettings

    settings = MovieRagSettings(
        workdir=sys.argv[1], backend="databricks", catalog="main", silver_schema="movie_rag"
    )
    publisher = ModelPublisher(
        settings, registry="databricks-uc", tracking_uri="sqlite:///" + sys.argv[1] + "/mlflow.db"
    )
    serving = publisher.databricks_serving(poll_interval=0.01, timeout=30)
    status = publisher.deploy_databricks("movie-rag", version="1", serving=serving, secrets={})
    print(json.dumps({"ready": status.ready, "message": status.message}))
    """
)


def test_a_notebook_deploys_with_its_own_credentials_and_no_token_setting(
    tmp_path: Path,
) -> None:
    runtime = tmp_path / "runtime" / "dbruntime"
    runtime.mkdir(parents=True)
    (runtime / "__init__.py").write_text("", encoding="utf-8")
    (runtime / "sdk_credential_provider.py").write_text(_NOTEBOOK_RUNTIME, encoding="utf-8")
    token_file = tmp_path / "notebook-token"
    token_file.write_text(NOTEBOOK_TOKEN, encoding="utf-8")
    script = tmp_path / "deploy.py"
    script.write_text(_DEPLOY, encoding="utf-8")
    (tmp_path / "home").mkdir()
    with ServingEmulator(token="some-other-users-pat") as workspace:
        workspace.add_identity(NOTEBOOK_TOKEN, "analyst@example.com", "notebook")
        workspace.register_model("main.movie_rag.movie_rag", "1")
        workspace.register_table("main.movie_rag.movies_info_index")
        workspace.register_table("main.movie_rag.collab", "VOLUME")
        src = Path(__file__).resolve().parents[2] / "src"
        env = _clean_environment(
            HOME=str(tmp_path / "home"),
            PYTHONPATH=os.pathsep.join([str(src), str(runtime.parent)]),
            DATABRICKS_RUNTIME_VERSION="15.4",
            EMULATED_NOTEBOOK_HOST=workspace.url,
            EMULATED_NOTEBOOK_TOKEN_FILE=str(token_file),
        )
        done = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "workdir")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["ready"], result
        authorised = [r for r in workspace.requests if r.principal is not None]
        assert authorised
        assert {(r.principal, r.credential) for r in authorised} == {
            ("analyst@example.com", "notebook")
        }
        # The deploying identity got what the served model uses (auth passthrough).
        assert ("TABLE", "main.movie_rag.movies_info_index") in workspace.privileges(
            "analyst@example.com"
        )
    assert NOTEBOOK_TOKEN not in done.stdout + done.stderr
