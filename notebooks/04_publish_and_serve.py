# Databricks notebook source
# MAGIC %md
# MAGIC # 04 · Publish and serve the recommender
# MAGIC
# MAGIC Turns the recommender chain into an MLflow model (logged from code, with a signature,
# MAGIC an input example and a model card), registers it, points the **champion** alias at it
# MAGIC and serves it, all with the `movie_rag` package.
# MAGIC
# MAGIC * **On Databricks**: the model is registered in Unity Catalog
# MAGIC   (`<catalog>.<schema>.<model_name>`), declares the Vector Search index and serving
# MAGIC   endpoints it uses (automatic auth passthrough), and is served by a Model Serving
# MAGIC   endpoint that is created or updated only when something changed, with inference
# MAGIC   tables, secrets passed as `{{secrets/<scope>/<key>}}` references and read-only
# MAGIC   grants for the endpoint's service principal.
# MAGIC * **Anywhere else**: the model carries its index and catalogue, goes to the local
# MAGIC   registry under the working directory and is served with `mlflow models serve`; every
# MAGIC   request lands in the local inference log.
# MAGIC
# MAGIC Run `01_ingest_and_build` first. Publishing again with the same data and settings
# MAGIC changes nothing.
# MAGIC
# MAGIC MovieLens data is for research, non-commercial use (cite Harper & Konstan, 2015);
# MAGIC IMDb-derived data is non-commercial. The model card repeats this.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install
# MAGIC
# MAGIC The project's wheel (`movie-rag` is not on PyPI): `pip wheel . --no-deps -w dist` (or
# MAGIC `databricks bundle deploy`, which builds it) and copy `dist/movie_rag-*.whl` to a
# MAGIC Unity Catalog volume, or point **wheel** at the bundle's artifact path. The `databricks`
# MAGIC extra brings the Vector Search and workspace clients and serving/Unity Catalog (databricks-sdk); MLflow 3 is installed whole,
# MAGIC so that the Vector Search client's mlflow-skinny 3 never lands over an ML runtime's
# MAGIC MLflow 2.

# COMMAND ----------

dbutils.widgets.text(
    "wheel",
    "/Volumes/movie_rag/bronze/raw/wheels/movie_rag-0.1.0-py3-none-any.whl",
    "movie_rag wheel (UC volume or bundle artifact path)",
)
wheel = dbutils.widgets.get("wheel")

# COMMAND ----------

# MAGIC %pip install "{wheel}[databricks]" "mlflow>=3.17,<4"

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

# MAGIC %md
# MAGIC ## Parameters

# COMMAND ----------

from movie_rag import MovieRagSettings

defaults = MovieRagSettings()

dbutils.widgets.text("workdir", str(defaults.workdir), "Local working directory")
dbutils.widgets.text("catalog", defaults.catalog, "Unity Catalog catalog")
dbutils.widgets.text("schema", defaults.silver_schema, "Schema of movies_info and the model")
dbutils.widgets.text("model_name", "movie_rag", "Registered model name")
dbutils.widgets.text("alias", "champion", "Alias of the served version")
dbutils.widgets.text("endpoint_name", "movie-rag", "Serving endpoint")
dbutils.widgets.dropdown("workload_size", "Small", ["Small", "Medium", "Large"], "Workload size")
dbutils.widgets.dropdown("scale_to_zero", "true", ["true", "false"], "Scale to zero")
dbutils.widgets.text("secret_scope", "movie_rag", "Secret scope for the endpoint's secrets")
dbutils.widgets.text("inference_table_prefix", "movie_rag", "Inference table name prefix")
dbutils.widgets.text("service_principal", "", "Service principal to grant read access")
dbutils.widgets.text("port", "5000", "Local serving port (0: any free port)")

# COMMAND ----------

from movie_rag.publish import ModelPublisher
from movie_rag.spark import on_databricks

ON_DATABRICKS = on_databricks()
settings = MovieRagSettings(
    backend="databricks" if ON_DATABRICKS else "local",
    catalog=dbutils.widgets.get("catalog"),
    silver_schema=dbutils.widgets.get("schema"),
    workdir=dbutils.widgets.get("workdir") or defaults.workdir,
)
publisher = ModelPublisher(settings, registry="databricks-uc" if ON_DATABRICKS else "local")
model_name = publisher.qualified_name(dbutils.widgets.get("model_name"))
alias = dbutils.widgets.get("alias")
print(f"registry:  {publisher.registry} ({publisher.tracking_uri})")
print(f"flavour:   {publisher.flavour}")
print(f"model:     {model_name}@{alias}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Log, register, alias
# MAGIC
# MAGIC The catalogue travels with the model (title and people lookups need no Spark at serving
# MAGIC time). On Databricks it is read from the Unity Catalog table; locally from the workdir,
# MAGIC together with the local vector index.

# COMMAND ----------

movies_info = None
if ON_DATABRICKS:
    import pyarrow as pa

    source = settings.table_name(settings.movies_info_table)
    movies_info = pa.Table.from_pandas(spark.table(source).toPandas(), preserve_index=False)

version = publisher.publish(model_name, alias, movies_info=movies_info)
print(f"{model_name} version {version.version} is models:/{model_name}@{alias}")

# COMMAND ----------

import pandas as pd

display(pd.DataFrame([version.model_dump(exclude={"tags"})]))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Serve
# MAGIC
# MAGIC On Databricks the endpoint serves the aliased version with inference tables in
# MAGIC `<catalog>.<schema>`; the LLM key (if any) is stored in the secret scope and reaches
# MAGIC the endpoint only as a reference. Locally, `mlflow models serve` answers on loopback.

# COMMAND ----------

EXAMPLE_QUESTIONS = [
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
]
payload = {"dataframe_split": {"columns": ["query"], "data": [[q] for q in EXAMPLE_QUESTIONS]}}

# COMMAND ----------

if ON_DATABRICKS:
    from movie_rag.publish import InferenceTableConfig

    status = publisher.deploy_databricks(
        dbutils.widgets.get("endpoint_name"),
        name=model_name,
        version=version.version,
        workload_size=dbutils.widgets.get("workload_size"),
        scale_to_zero=dbutils.widgets.get("scale_to_zero") == "true",
        secret_scope=dbutils.widgets.get("secret_scope"),
        inference_table=InferenceTableConfig(
            catalog_name=settings.catalog,
            schema_name=settings.silver_schema,
            table_name_prefix=dbutils.widgets.get("inference_table_prefix"),
        ),
    )
    print(status.message)
    from databricks.sdk import WorkspaceClient

    reply = WorkspaceClient().serving_endpoints.query(
        name=status.name, dataframe_split=payload["dataframe_split"]
    )
    answers = list(reply.predictions)
else:
    import json
    import urllib.request

    server = publisher.serve_local(
        f"models:/{model_name}@{alias}", port=int(dbutils.widgets.get("port"))
    )
    try:
        print(f"serving at {server.url} (ready in {server.ready_seconds:.1f} s)")
        request = urllib.request.Request(
            f"{server.url}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answers = json.loads(response.read())["predictions"]
    finally:
        server.stop()

display(pd.DataFrame({"question": EXAMPLE_QUESTIONS, "answer": answers}))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Grants
# MAGIC
# MAGIC Least privilege for the service principal that owns the endpoint: `USE CATALOG`,
# MAGIC `USE SCHEMA` and `SELECT` on `movies_info`, nothing more.

# COMMAND ----------

principal = dbutils.widgets.get("service_principal").strip()
if ON_DATABRICKS and principal:
    publisher.grant_read(principal)
    print(f"{principal} may read {settings.table_name(settings.movies_info_table)}")
else:
    print("no grants: not on Databricks, or no service_principal given")

# COMMAND ----------

# MAGIC %md
# MAGIC ## The inference log
# MAGIC
# MAGIC Databricks writes the endpoint's requests to `<catalog>.<schema>.<prefix>_payload`;
# MAGIC the local server appends them to the workdir's inference log, with the same columns.

# COMMAND ----------

if ON_DATABRICKS:
    table = f"{settings.catalog}.{settings.silver_schema}.{dbutils.widgets.get('inference_table_prefix')}_payload"
    print(f"requests are logged to {table} (it fills in within about an hour)")
else:
    from movie_rag.publish import InferenceLog

    log = InferenceLog(publisher.workdir.inference_logs).read()
    display(
        log.select(["timestamp_ms", "status_code", "execution_time_ms", "request"])
        .to_pandas()
        .tail(10)
    )
