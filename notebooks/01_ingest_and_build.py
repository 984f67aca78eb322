# Databricks notebook source
# MAGIC %md
# MAGIC # 01 · Ingest and build `movies_info`
# MAGIC
# MAGIC Reads a MovieLens release and any IMDb-like files, writes the bronze tables and builds
# MAGIC `movies_info` (one row per movie, with the text that gets embedded) with the
# MAGIC `movie_rag` package.
# MAGIC
# MAGIC * **On Databricks** the tables are Delta tables in Unity Catalog:
# MAGIC   `<catalog>.<bronze_schema>.*` and `<catalog>.<silver_schema>.movies_info`, the latter
# MAGIC   with change data feed enabled so a Vector Search delta-sync index can follow it.
# MAGIC * **Anywhere else** the same code writes parquet tables under the working directory.
# MAGIC
# MAGIC Leave **movielens_path** empty to build the small sample catalogue bundled with the
# MAGIC package. Input paths must be visible to the driver: Unity Catalog volumes
# MAGIC (`/Volumes/<catalog>/<schema>/<volume>/...`), workspace files, or `dbfs:/` paths.
# MAGIC
# MAGIC MovieLens data is for research, non-commercial use (cite Harper & Konstan, 2015);
# MAGIC IMDb-derived data is non-commercial. See the data card in the docs.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install
# MAGIC
# MAGIC The project's wheel (`movie-rag` is not on PyPI): `pip wheel . --no-deps -w dist` (or
# MAGIC `databricks bundle deploy`, which builds it) and copy `dist/movie_rag-*.whl` to a
# MAGIC Unity Catalog volume, or point **wheel** at the bundle's artifact path. The `databricks`
# MAGIC extra brings the Vector Search and workspace clients (this notebook builds the index); MLflow 3 is installed whole,
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

dbutils.widgets.text("movielens_path", "", "MovieLens directory (empty: bundled sample)")
dbutils.widgets.text("imdb_paths", "", "IMDb-like files (comma-separated)")
dbutils.widgets.text("genome_path", "", "Genome directory (if not in the MovieLens one)")
dbutils.widgets.text("catalog", defaults.catalog, "Unity Catalog catalog")
dbutils.widgets.text("bronze_schema", defaults.bronze_schema, "Bronze schema")
dbutils.widgets.text("silver_schema", defaults.silver_schema, "Silver schema")
dbutils.widgets.text("workdir", str(defaults.workdir), "Local working directory")

# COMMAND ----------

from pathlib import Path

from movie_rag import sample_catalogue
from movie_rag.spark import on_databricks


def driver_path(value: str) -> Path:
    """A path as the driver's Python sees it: ``dbfs:/x`` is ``/dbfs/x``."""
    value = value.strip()
    if value.startswith("dbfs:"):
        return Path("/dbfs") / value.removeprefix("dbfs:").lstrip("/")
    return Path(value)


movielens_path = dbutils.widgets.get("movielens_path").strip()
imdb_paths = [driver_path(p) for p in dbutils.widgets.get("imdb_paths").split(",") if p.strip()]
genome_path = dbutils.widgets.get("genome_path").strip()
genome_dir = driver_path(genome_path) if genome_path else None

if movielens_path:
    movielens_dir = driver_path(movielens_path)
else:
    sample = sample_catalogue()
    movielens_dir = sample.movielens_dir
    imdb_paths = imdb_paths or list(sample.imdb_paths)
    print("movielens_path is empty: building the bundled sample catalogue")

settings = MovieRagSettings(
    backend="databricks" if on_databricks() else "local",
    catalog=dbutils.widgets.get("catalog"),
    bronze_schema=dbutils.widgets.get("bronze_schema"),
    silver_schema=dbutils.widgets.get("silver_schema"),
    workdir=dbutils.widgets.get("workdir") or defaults.workdir,
)
print(f"backend:     {settings.backend}")
print(f"MovieLens:   {movielens_dir}")
print(f"IMDb-like:   {', '.join(str(p) for p in imdb_paths) or '(none)'}")
print(f"genome:      {genome_dir or '(in the MovieLens directory, if any)'}")
print(f"movies_info: {settings.table_name(settings.movies_info_table)}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Build
# MAGIC
# MAGIC Bronze tables first (`movielens_*`, `imdb_<format>`), then `movies_info`. A rebuild
# MAGIC merges on `movie_id` and rewrites only rows whose content changed. Rows that break the
# MAGIC input contracts are not dropped: they go to the quarantine with the reason.

# COMMAND ----------

from movie_rag import build_catalogue

report = build_catalogue(
    settings,
    movielens_dir,
    imdb_paths,
    genome_dir=genome_dir,
    spark=spark,
    progress=print,
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Build report

# COMMAND ----------

import pandas as pd

display(pd.DataFrame([item.model_dump() for item in report.inputs]))

# COMMAND ----------

display(
    pd.DataFrame(
        [{"source": source, **matches.model_dump()} for source, matches in report.matches.items()]
    )
)

# COMMAND ----------

display(
    pd.DataFrame(
        [{"field": name, **coverage.model_dump()} for name, coverage in report.coverage.items()]
    )
)

# COMMAND ----------

print(f"movies_info: {report.rows:,} rows -> {report.table}")
print(f"changes:     {report.changes}")
print(f"quarantined: {sum(report.quarantined.values()):,} rows -> {report.quarantine_location}")
print(f"timings:     {report.timings}")
assert report.rows_accounted(), "some input rows were neither loaded nor quarantined"

# COMMAND ----------

# MAGIC %md
# MAGIC ## A sample of `movies_info`

# COMMAND ----------

from movie_rag import TableStore

movies_info = TableStore(spark, settings).read(settings.movies_info_table)
display(
    movies_info.select(
        "movie_id", "title", "year", "genres", "rating", "votes", "sources", "overview"
    )
    .orderBy("movie_id")
    .limit(20)
)

# COMMAND ----------

if settings.backend == "databricks":
    display(spark.sql(f"SHOW TBLPROPERTIES {report.table} (delta.enableChangeDataFeed)"))
