# Databricks notebook source
# MAGIC %md
# MAGIC # 02 · Build the vector index
# MAGIC
# MAGIC Builds (or brings up to date) the vector index over `movies_info`, written by notebook
# MAGIC 01, then runs a few example searches.
# MAGIC
# MAGIC * **On Databricks** the index is a Mosaic AI Vector Search *Delta Sync* index on
# MAGIC   `<catalog>.<silver_schema>.movies_info`: Databricks embeds `document` with the
# MAGIC   embedding endpoint (`databricks-gte-large-en` by default) and follows the table through
# MAGIC   its change data feed. The Vector Search endpoint is created if it does not exist (a new
# MAGIC   endpoint takes several minutes to come online). Running the notebook again only
# MAGIC   re-embeds the movies that changed.
# MAGIC * **Anywhere else** the same code builds the embedded index under the working directory
# MAGIC   (all-MiniLM-L6-v2, offline).
# MAGIC
# MAGIC `user_tags` never reaches the index. Set **backend** to force one or the other.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install
# MAGIC
# MAGIC The project's wheel (`movie-rag` is not on PyPI): `pip wheel . --no-deps -w dist` (or
# MAGIC `databricks bundle deploy`, which builds it) and copy `dist/movie_rag-*.whl` to a
# MAGIC Unity Catalog volume, or point **wheel** at the bundle's artifact path. The `databricks`
# MAGIC extra brings the Vector Search and workspace clients; MLflow 3 is installed whole,
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
from movie_rag.index.databricks import DEFAULT_EMBEDDING_ENDPOINT, DEFAULT_ENDPOINT_NAME

defaults = MovieRagSettings()

dbutils.widgets.dropdown("backend", "auto", ["auto", "databricks", "local"], "Backend")
dbutils.widgets.text("catalog", defaults.catalog, "Unity Catalog catalog")
dbutils.widgets.text("silver_schema", defaults.silver_schema, "Schema of movies_info")
dbutils.widgets.text("endpoint_name", DEFAULT_ENDPOINT_NAME, "Vector Search endpoint")
dbutils.widgets.text("index_name", "", "Index name (empty: <catalog>.<schema>.movies_info_index)")
dbutils.widgets.text("embedding_endpoint", DEFAULT_EMBEDDING_ENDPOINT, "Embedding endpoint")
dbutils.widgets.text("timeout_minutes", "60", "Minutes to wait for endpoint and index")
dbutils.widgets.text("workdir", str(defaults.workdir), "Local working directory")

# COMMAND ----------

from movie_rag.spark import on_databricks

choice = dbutils.widgets.get("backend")
backend = choice if choice != "auto" else ("databricks" if on_databricks() else "local")
settings = MovieRagSettings(
    backend=backend,
    catalog=dbutils.widgets.get("catalog"),
    silver_schema=dbutils.widgets.get("silver_schema"),
    workdir=dbutils.widgets.get("workdir") or defaults.workdir,
)
print(f"backend:     {settings.backend}")
print(f"movies_info: {settings.table_name(settings.movies_info_table)}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Build or sync
# MAGIC
# MAGIC `build` creates what is missing and replaces an index whose definition changed; on an
# MAGIC existing index it is a sync: unchanged movies are neither re-embedded nor rewritten.

# COMMAND ----------

from movie_rag.index import VectorIndexManager
from movie_rag.index.databricks import DatabricksVectorIndex

if settings.backend == "databricks":
    index = DatabricksVectorIndex.from_settings(
        settings,
        index_name=dbutils.widgets.get("index_name").strip() or None,
        endpoint_name=dbutils.widgets.get("endpoint_name").strip() or None,
        embedding_endpoint=dbutils.widgets.get("embedding_endpoint").strip() or None,
        timeout=float(dbutils.widgets.get("timeout_minutes")) * 60,
    )
    manager = VectorIndexManager(settings, index=index)
else:
    manager = VectorIndexManager(settings)

report = manager.build(progress=lambda done, total: print(f"embedded {done}/{total}"))
status = manager.describe()
print(f"index:       {status.location} (ready: {status.ready})")
print(f"model:       {status.model_name} ({status.dimension}-d)")
print(f"movies:      {status.row_count:,}")
print(
    f"changes:     {report.added} added, {report.updated} updated, {report.deleted} deleted, "
    f"{report.unchanged} unchanged, {report.embedded} embedded in {report.seconds:.1f} s"
)
assert status.ready, "the index is not serving yet; see describe() for its state"

# COMMAND ----------

# MAGIC %md
# MAGIC ## Example searches
# MAGIC
# MAGIC Free text, hybrid (dense + keyword) search with filters, and "more like this".

# COMMAND ----------

import pandas as pd

from movie_rag.index import SearchFilters


def show(hits):
    """Display hits as a table."""
    display(
        pd.DataFrame(
            [
                {
                    "movie_id": hit.movie_id,
                    "title": hit.metadata.get("title"),
                    "year": hit.metadata.get("year"),
                    "genres": ", ".join(hit.metadata.get("genres") or []),
                    "rating": hit.metadata.get("rating"),
                    "score": round(hit.score, 4),
                }
                for hit in hits
            ]
        )
    )


space = manager.search("an epic space adventure with rebels against an empire", k=5)
show(space)

# COMMAND ----------

scary = manager.search(
    "a haunted place and a family in danger",
    k=5,
    mode="hybrid",
    filters=SearchFilters(genres_any=["Horror", "Thriller"], year_min=1970),
)
show(scary)

# COMMAND ----------

seed = space[0]
print(f"more like {seed.metadata.get('title')}:")
similar = manager.similar_to(seed.movie_id, k=5)
show(similar)
