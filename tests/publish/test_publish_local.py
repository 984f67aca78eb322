"""Log → register → alias on the local sqlite registry, and what a logged model contains."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from publish_helpers import LLM_KEY, WORKSPACE_TOKEN, post, publisher_settings

from movie_rag.publish import (
    LocalServer,
    ModelNotFoundError,
    ModelPublisher,
    RegisteredVersion,
)
from movie_rag.publish.publisher import FINGERPRINT_TAG, _requirement_name, model_signature

pytestmark = [pytest.mark.spark, pytest.mark.slow]

SECRETS = (LLM_KEY.encode(), WORKSPACE_TOKEN.encode())


@pytest.fixture(scope="module")
def model_dir(
    publisher: ModelPublisher, champion: RegisteredVersion, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The champion's files, downloaded from the registry."""
    import mlflow

    with publisher.tracking():
        path = mlflow.artifacts.download_artifacts(
            champion.model_uri, dst_path=str(tmp_path_factory.mktemp("champion"))
        )
    return Path(path)


@pytest.fixture
def tracking(publisher: ModelPublisher) -> Iterator[None]:
    with publisher.tracking():
        yield


def _files_containing(root: Path, needles: tuple[bytes, ...]) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n.decode()[:8]}…" for n in needles if n in data]
    return found


# -- registry ------------------------------------------------------------------------------


def test_publish_registers_a_version_and_points_the_alias_at_it(
    publisher: ModelPublisher, champion: RegisteredVersion
) -> None:
    assert champion.name == "movie_rag"
    assert "champion" in champion.aliases
    assert champion.model_uri == f"models:/movie_rag/{champion.version}"
    assert champion.tags["flavour"] == "local"
    assert len(champion.tags[FINGERPRINT_TAG]) == 64
    assert publisher.by_alias("champion") == champion
    assert publisher.latest() == champion
    assert publisher.version(champion.version) == champion
    db = publisher.workdir.mlflow / "mlflow.db"
    assert db.is_file()
    assert any((publisher.workdir.mlflow / "artifacts").rglob("MLmodel"))


def test_republishing_the_same_model_changes_nothing(
    publisher: ModelPublisher, champion: RegisteredVersion
) -> None:
    again = publisher.publish()
    assert again.version == champion.version
    assert publisher.latest().version == champion.version  # type: ignore[union-attr]


def test_a_changed_setting_changes_the_fingerprint(
    publisher: ModelPublisher, champion: RegisteredVersion
) -> None:
    assert publisher.fingerprint() == champion.tags[FINGERPRINT_TAG]
    changed = ModelPublisher(publisher_settings(publisher.workdir.root, default_k=7))
    assert changed.fingerprint() != champion.tags[FINGERPRINT_TAG]


def test_register_and_move_an_alias(publisher: ModelPublisher, champion: RegisteredVersion) -> None:
    name = "movie_rag_staging"
    first = publisher.register(name, champion.source)
    second = publisher.register(name, champion.source)
    assert (first.version, second.version) == ("1", "2")
    assert second.tags[FINGERPRINT_TAG] == champion.tags[FINGERPRINT_TAG]
    assert "MovieLens" in publisher.client().get_model_version(name, "2").description
    assert publisher.set_alias("challenger", name=name).version == "2"  # default: latest
    assert publisher.set_alias("challenger", "1", name=name).aliases == ["challenger"]
    assert publisher.by_alias("challenger", name).version == "1"
    assert publisher.latest(name).version == "2"  # type: ignore[union-attr]


def test_missing_models_versions_and_aliases_say_what_to_do(publisher: ModelPublisher) -> None:
    with pytest.raises(ModelNotFoundError, match=r"alias 'gold'.*movie-rag publish"):
        publisher.by_alias("gold")
    with pytest.raises(ModelNotFoundError, match="has no version 99"):
        publisher.version(99)
    assert publisher.latest("never_registered") is None
    with pytest.raises(ModelNotFoundError, match="alias 'gold'"):
        publisher.serve_local("models:/movie_rag@gold", port=0)


# -- what the logged model holds ---------------------------------------------------------------


def test_logged_model_has_signature_input_example_and_explicit_requirements(
    model_dir: Path,
) -> None:
    from mlflow.models import Model

    model = Model.load(str(model_dir / "MLmodel"))
    assert model.signature == model_signature()
    assert model.signature.inputs.input_names() == ["query", "user_id", "filters", "k", "messages"]
    assert [p.name for p in model.signature.params.params] == ["format", "client_request_id"]
    example = json.loads((model_dir / "serving_input_example.json").read_text())
    assert example["dataframe_split"]["columns"] == ["query", "k"]
    assert "Jurassic Park" in example["dataframe_split"]["data"][0][0]
    requirements = (model_dir / "requirements.txt").read_text().split()
    names = {_requirement_name(r) for r in requirements}
    assert "pyspark" not in names
    assert {"mlflow", "torch", "sentence-transformers", "pandas"} <= names
    config = model.flavors["python_function"]["config"]
    assert config["flavour"] == "local"
    assert config["warmup"] is True


def test_index_and_catalogue_travel_with_the_model(
    model_dir: Path, publisher: ModelPublisher
) -> None:
    index = model_dir / "artifacts" / "index"
    live = (index / "CURRENT").read_text().strip()
    # No cache, no lock; the ONNX export of the embedding model goes along (queries are
    # encoded without torch in serving).
    assert sorted(p.name for p in index.iterdir()) == ["CURRENT", "encoder", live]
    assert [p.suffix for p in (index / "encoder").iterdir()] == [".onnx"]
    manifest = json.loads((index / live / "manifest.json").read_text())
    assert manifest["model_name"] == "all-MiniLM-L6-v2"
    catalogue = pq.read_table(model_dir / "artifacts" / "movies_info")
    source = pq.read_table(publisher.workdir.table("movies_info"))
    assert catalogue.num_rows == source.num_rows == manifest["row_count"]
    assert "user_tags" in source.column_names
    assert "user_tags" not in catalogue.column_names
    code = model_dir / "code" / "movie_rag"
    assert (code / "publish" / "model.py").is_file()
    assert not list(code.rglob("__pycache__"))


def test_model_card_states_the_data_licences(model_dir: Path) -> None:
    card = " ".join((model_dir / "artifacts" / "MODEL_CARD.md").read_text().split())
    assert "no commercial use" in card.lower()
    assert "Harper" in card and "Konstan" in card
    assert "IMDb" in card and "non-commercial" in card
    assert "dataframe_split" in card and "custom_outputs" in card


def test_no_secret_in_any_artifact_config_record_or_log(
    publisher: ModelPublisher, champion: RegisteredVersion, model_dir: Path, server: LocalServer
) -> None:
    status, _ = post(f"{server.url}/invocations", {"dataframe_records": [{"query": "a comedy"}]})
    assert status == 200
    # Everything the publisher and the server wrote: registry db, artifacts, model config,
    # server output, inference log; plus the copy a client downloads.
    for root in (publisher.workdir.root, model_dir):
        assert _files_containing(root, SECRETS) == []
    # The search covered what matters: the publisher's settings do hold both secrets, and
    # the registry, the model config (MLmodel), the server's output and the log were there.
    assert publisher.settings.llm_api_key.get_secret_value().encode() in SECRETS  # type: ignore[union-attr]
    assert list(publisher.workdir.mlflow.rglob("MLmodel"))
    assert (publisher.workdir.mlflow / "mlflow.db").is_file()
    assert server.log_path.is_file() and server.log_path.is_relative_to(publisher.workdir.root)
    assert list(publisher.workdir.inference_logs.rglob("*.jsonl"))


def test_the_served_model_needs_neither_workdir_nor_spark(model_dir: Path, tmp_path: Path) -> None:
    code = (
        "import json, sys, mlflow.pyfunc, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model({str(model_dir)!r})\n"
        "out = model.predict(pd.DataFrame({'query': ['a horror movie'], 'k': [2]}),\n"
        "                    params={'format': 'json'})\n"
        "pyspark = sys.modules.get('pyspark')\n"
        "jvm = pyspark is not None and pyspark.SparkContext._active_spark_context is not None\n"
        "build = ('movie_rag.pipeline', 'movie_rag.ingest.movie_info')\n"
        "ours = [m for m in build if m in sys.modules]\n"
        "print(json.dumps({'out': out, 'jvm': jvm, 'spark_modules': ours}))\n"
    )
    env = dict(os.environ, MOVIE_RAG_WORKDIR=str(tmp_path / "nowhere"), HF_HUB_OFFLINE="1")
    env.pop("MOVIE_RAG_INFERENCE_LOG_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    # MLflow itself imports pyspark when it is installed; what matters is that no Spark
    # session starts and nothing of the build (pipeline, MovieInfoBuilder) loads.
    assert reply["jvm"] is False
    assert reply["spark_modules"] == []
    (response,) = reply["out"]
    assert len(response["recommendations"]) == 2
    assert all("Horror" in r["genres"] for r in response["recommendations"])
    assert not (tmp_path / "nowhere").exists()


# -- the Databricks flavour, logged offline ------------------------------------------------


def test_databricks_flavour_logs_offline_without_spark_torch_or_secrets(
    publisher: ModelPublisher, tmp_path: Path
) -> None:
    """Registering in Unity Catalog and serving need a workspace; logging does not."""
    import mlflow
    from mlflow.models import Model

    settings = publisher_settings(
        tmp_path / "wd",
        backend="databricks",
        catalog="main",
        llm_provider="databricks",
        databricks_host="https://example.cloud.databricks.com",
    )
    databricks = ModelPublisher(settings)
    assert databricks.flavour == "databricks"
    logged = databricks.log(movies_info=publisher.workdir.table("movies_info"))
    with databricks.tracking():
        path = Path(mlflow.artifacts.download_artifacts(logged.model_uri, dst_path=str(tmp_path)))
    requirements = (path / "requirements.txt").read_text().split()
    names = {_requirement_name(r) for r in requirements}
    assert not names & {"pyspark", "torch", "sentence-transformers", "databricks-connect"}
    assert {"databricks-sdk", "databricks-ai-search", "langchain-openai"} <= names
    model = Model.load(str(path / "MLmodel"))
    resources = model.resources["databricks"]
    assert resources["vector_search_index"] == [{"name": "main.silver.movies_info_index"}]
    assert {"name": "databricks-gte-large-en"} in resources["serving_endpoint"]
    assert {"name": settings.llm_endpoint} in resources["serving_endpoint"]
    assert not (path / "artifacts" / "index").exists()
    assert model.flavors["python_function"]["config"]["tracing"] is True
    assert _files_containing(tmp_path, SECRETS) == []


# -- tracing -------------------------------------------------------------------------------


def test_traced_model_records_retriever_spans_in_the_default_schema(
    model_dir: Path, publisher: ModelPublisher, tracking: None
) -> None:
    import mlflow
    import pandas as pd
    from mlflow.pyfunc import PythonModelContext

    from movie_rag.publish.model import MovieRagModel

    config = publisher.model_config() | {"tracing": True, "warmup": False}
    artifacts = {
        "index": str(model_dir / "artifacts" / "index"),
        "movies_info": str(model_dir / "artifacts" / "movies_info"),
    }
    model = MovieRagModel()
    model.load_context(PythonModelContext(artifacts=artifacts, model_config=config))
    answer = model.predict(None, pd.DataFrame({"query": ["a thriller from the 90s"], "k": [3]}))
    assert isinstance(answer, list) and answer[0]
    mlflow.flush_trace_async_logging()
    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
    assert trace is not None
    spans = {span.name: span for span in trace.data.spans}
    assert spans["recommend"].span_type == "CHAIN"
    assert spans["recommend"].inputs["query"] == "a thriller from the 90s"
    retrieve = spans["retrieve"]
    assert retrieve.span_type == "RETRIEVER"
    assert retrieve.parent_id == spans["recommend"].span_id
    documents = retrieve.outputs
    assert documents and {"page_content", "metadata", "id"} <= set(documents[0])
