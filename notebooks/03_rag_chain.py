# Databricks notebook source
# MAGIC %md
# MAGIC # 03 · Recommend with the RAG chain
# MAGIC
# MAGIC Answers movie questions with `RecommenderChain`: the query is understood without an LLM
# MAGIC (genres, years, ratings, people, "like X", moods), candidates come from the vector index
# MAGIC and are re-ranked with a rating prior and popularity, an answer is generated, and every
# MAGIC title in it is checked against the catalogue.
# MAGIC
# MAGIC * **generator = none**: the grounded generator writes each reason from the movie's own
# MAGIC   record; no LLM needed.
# MAGIC * **generator = databricks**: Llama-3 on Model Serving through its OpenAI-compatible API
# MAGIC   (`{host}/serving-endpoints`); the workspace host and token come from the notebook
# MAGIC   context or `DATABRICKS_HOST` / `DATABRICKS_TOKEN`.
# MAGIC
# MAGIC Run notebooks 01 and 02 first (or leave the workdir empty here to build the bundled
# MAGIC sample locally).

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install
# MAGIC
# MAGIC The project's wheel (`movie-rag` is not on PyPI): `pip wheel . --no-deps -w dist` (or
# MAGIC `databricks bundle deploy`, which builds it) and copy `dist/movie_rag-*.whl` to a
# MAGIC Unity Catalog volume, or point **wheel** at the bundle's artifact path. The `databricks`
# MAGIC extra brings the Vector Search and workspace clients and the OpenAI-compatible LLM client; MLflow 3 is installed whole,
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

from movie_rag import MovieRagSettings

defaults = MovieRagSettings()
dbutils.widgets.text("catalog", defaults.catalog, "Unity Catalog catalog")
dbutils.widgets.text("workdir", str(defaults.workdir), "Local working directory")
dbutils.widgets.dropdown("generator", "none", ["none", "databricks"], "Generator")
dbutils.widgets.text("llm_endpoint", defaults.llm_endpoint, "Chat serving endpoint")
dbutils.widgets.text("k", "5", "Recommendations per answer")

# COMMAND ----------

from movie_rag.spark import on_databricks

settings = MovieRagSettings(
    backend="databricks" if on_databricks() else "local",
    catalog=dbutils.widgets.get("catalog"),
    workdir=dbutils.widgets.get("workdir") or defaults.workdir,
    llm_provider=dbutils.widgets.get("generator"),
    llm_endpoint=dbutils.widgets.get("llm_endpoint"),
    default_k=int(dbutils.widgets.get("k")),
)
print(f"backend: {settings.backend}, generator: {settings.llm_provider}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## Open (or build) the index
# MAGIC
# MAGIC Locally, an empty workdir gets the bundled sample built into it first.

# COMMAND ----------

from movie_rag import build_catalogue, sample_catalogue
from movie_rag.index import VectorIndexManager

if settings.backend == "local" and not VectorIndexManager(settings).describe().ready:
    sample = sample_catalogue()
    build_catalogue(settings, sample.movielens_dir, sample.imdb_paths, spark=spark)

from movie_rag.chain.recommender import RecommenderChain

chain = RecommenderChain.from_settings(settings)
print(chain)

# COMMAND ----------

# MAGIC %md
# MAGIC ## The original app's four questions

# COMMAND ----------

import pandas as pd

questions = [
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
]
responses = chain.batch(questions)
for response in responses:
    print(response.query)
    print(response.answer)
    print()

rows = [
    {
        "question": r.query,
        "rank": i + 1,
        "title": rec.title,
        "year": rec.year,
        "genres": ", ".join(rec.genres),
        "reason": rec.reason,
        "url": rec.url,
    }
    for r in responses
    for i, rec in enumerate(r.recommendations)
]
display(pd.DataFrame(rows))

# COMMAND ----------

# MAGIC %md
# MAGIC ## A conversation
# MAGIC
# MAGIC History entries carry the earlier recommendations' movie ids, so follow-ups work
# MAGIC without an LLM.

# COMMAND ----------

first = chain.invoke("feel-good animated movies")
history = [
    {"role": "user", "content": "feel-good animated movies"},
    {
        "role": "assistant",
        "content": first.answer,
        "recommendations": [r.movie_id for r in first.recommendations],
    },
]
follow_up = chain.invoke({"query": "more like the second one", "history": history})
print(first.answer, "\n")
print(follow_up.answer)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Streaming events

# COMMAND ----------

for event in chain.stream({"query": "a heist thriller from the 90s", "k": 3}):
    if event["event"] == "recommendation":
        print("→", event["data"].title, event["data"].year)
    elif event["event"] == "parsed":
        print("understood:", event["data"]["filters"])
