# Databricks notebook source
# MAGIC %md
# MAGIC # 05 · Collaborative signal and personalisation
# MAGIC
# MAGIC Trains the collaborative model on the MovieLens ratings with Spark — the same code
# MAGIC `movie-rag build` runs — and shows how the chain uses it:
# MAGIC
# MAGIC * **co-like neighbours**: a self-join of the likes (rating ≥ a threshold) counts the
# MAGIC   users who liked both movies, normalised by both like counts (cosine), top-N per movie;
# MAGIC * **implicit ALS** (Spark MLlib) user and item factors.
# MAGIC
# MAGIC The results are plain files (parquet and numpy) so answering a question needs no
# MAGIC Spark. **On Databricks** they go to the Unity Catalog volume
# MAGIC `/Volumes/<catalog>/<silver_schema>/collab` (create the volume `collab` first, or set
# MAGIC `collab_path`); **anywhere else** to `<workdir>/collab`. Training is skipped when the
# MAGIC ratings and the parameters did not change (a fingerprint in the manifest).
# MAGIC
# MAGIC Run notebook 01 first (it writes the bronze `movielens_ratings` table); locally an empty
# MAGIC workdir gets the bundled sample built, whose ratings are synthetic.

# COMMAND ----------

# MAGIC %md
# MAGIC ## Install
# MAGIC
# MAGIC The project's wheel (`movie-rag` is not on PyPI): `pip wheel . --no-deps -w dist` (or
# MAGIC `databricks bundle deploy`, which builds it) and copy `dist/movie_rag-*.whl` to a
# MAGIC Unity Catalog volume, or point **wheel** at the bundle's artifact path. The `databricks`
# MAGIC extra brings the Vector Search and workspace clients (the chain reads the Vector Search index); MLflow 3 is installed whole,
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
dbutils.widgets.text("like_threshold", str(defaults.collab_like_threshold), "Like threshold")
dbutils.widgets.text("als_rank", str(defaults.als_rank), "ALS factors")

# COMMAND ----------

from movie_rag.spark import on_databricks

settings = MovieRagSettings(
    backend="databricks" if on_databricks() else "local",
    catalog=dbutils.widgets.get("catalog"),
    workdir=dbutils.widgets.get("workdir") or defaults.workdir,
    collab_like_threshold=float(dbutils.widgets.get("like_threshold")),
    als_rank=int(dbutils.widgets.get("als_rank")),
)

# COMMAND ----------

# MAGIC %md
# MAGIC ## The ratings (bronze table)

# COMMAND ----------

from movie_rag import TableStore, build_catalogue, sample_catalogue

store = TableStore(spark, settings)
if settings.backend == "local" and not store.exists("movielens_ratings", "bronze"):
    sample = sample_catalogue()
    build_catalogue(settings, sample.movielens_dir, sample.imdb_paths, spark=spark)

ratings_frame = store.read("movielens_ratings", "bronze")
display(ratings_frame.limit(5))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Co-like neighbours as a Spark job
# MAGIC
# MAGIC `item_knn_frame` is the distributed form of `fit_item_knn` (the in-memory definition
# MAGIC the evaluation's item-kNN baseline uses); a test holds the two equal.

# COMMAND ----------

from movie_rag.collab.spark_jobs import item_knn_frame

neighbours_frame = item_knn_frame(
    ratings_frame, like_threshold=settings.collab_like_threshold, top_n=settings.collab_top_n
)
display(neighbours_frame.orderBy("movie_id", "score", ascending=[True, False]).limit(10))

# COMMAND ----------

# MAGIC %md
# MAGIC ## Train and store the model (what `movie-rag build` does)

# COMMAND ----------

from movie_rag.collab.model import CollaborativeModel, collab_location, train_collaborative

ratings = ratings_frame.toArrow()
summary = train_collaborative(settings, ratings, ratings_frame=ratings_frame)
print(f"stored in {collab_location(settings)}: {summary}")

# COMMAND ----------

# MAGIC %md
# MAGIC ## The query path reads the files, without Spark

# COMMAND ----------

import pandas as pd

model = CollaborativeModel.load(collab_location(settings))
movies = store.read(settings.movies_info_table).select("movie_id", "title").toPandas()
titles = dict(zip(movies["movie_id"], movies["title"], strict=True))
seed = max(model.neighbours.like_counts, key=model.neighbours.like_counts.get)
similar = pd.DataFrame(
    [
        {"seed": titles.get(seed), "neighbour": titles.get(movie_id), "score": round(score, 3)}
        for movie_id, score in model.neighbours.similar_to([seed], 10)
    ]
)
display(similar)

# COMMAND ----------

# MAGIC %md
# MAGIC ## Personalised answers
# MAGIC
# MAGIC A numeric `user_id` names a MovieLens user; their rated movies never come back and
# MAGIC their liked ones shape the order. Thumbs from the UI count for every user, at once.

# COMMAND ----------

from movie_rag import RecommenderChain

chain = RecommenderChain.from_settings(settings)
user = int(model.user_ids[0])
response = chain.invoke({"query": "Recommend me some movies", "user_id": str(user)})
seen = set(model.history(user))
personal = pd.DataFrame(
    [{"title": r.title, "seen before": r.movie_id in seen} for r in response.recommendations]
)
display(personal)
