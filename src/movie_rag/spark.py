"""The Spark session: Databricks' active one, else a quiet local session under the workdir."""

from __future__ import annotations

import logging
import os
import sys
from importlib import resources
from typing import TYPE_CHECKING, Literal

from movie_rag.errors import ConfigurationError
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["get_spark", "on_databricks", "table_format"]

logger = logging.getLogger("movie_rag")


def on_databricks() -> bool:
    """Whether this process runs on a Databricks cluster (the runtime sets this variable)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def get_spark(settings: MovieRagSettings | None = None) -> SparkSession:
    """Return the active Spark session, or start a local one.

    On Databricks (or wherever a session is already active) the active session is reused
    untouched. Otherwise a local session starts with its warehouse and scratch space under the
    workdir, quiet logs, loopback-only networking and few shuffle partitions (the data is
    small), with Arrow enabled for pandas/Arrow conversion.

    Args:
        settings: Settings; ``spark_master``, ``spark_shuffle_partitions`` and ``workdir``
            are used.

    Returns:
        A ``pyspark.sql.SparkSession``.

    Raises:
        ConfigurationError: pyspark is not installed (install the ``local`` extra).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            "pyspark is not installed: `pip install 'movie-rag[local]'` for local Spark, "
            "or run on a Databricks cluster"
        ) from exc

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    settings = settings or MovieRagSettings()
    workdir = Workdir(settings.workdir)
    (workdir.spark / "tmp").mkdir(parents=True, exist_ok=True)
    # Python workers must run the interpreter that has movie_rag installed.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    log_config = resources.files("movie_rag._spark") / "log4j2.properties"
    java_options = (
        f"-Dlog4j2.configurationFile=file:{log_config} -Dderby.system.home={workdir.spark}"
    )
    logger.info("starting local Spark (%s) under %s", settings.spark_master, workdir.spark)
    from movie_rag.logs import jvm_output_redirected

    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName("movie_rag")
        .config("spark.sql.warehouse.dir", str(workdir.spark / "warehouse"))
        .config("spark.local.dir", str(workdir.spark / "tmp"))
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.default.parallelism", str(settings.spark_shuffle_partitions))
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.ansi.enabled", "true")
    )
    # The JVM's banner and native-library warnings go to the workdir's log in a quiet CLI run.
    with jvm_output_redirected():
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def table_format(spark: SparkSession, settings: MovieRagSettings) -> Literal["delta", "parquet"]:
    """Choose the table format once: Delta where the runtime has it, parquet otherwise.

    Args:
        spark: The session tables are written with.
        settings: ``table_format`` forces a format unless it is ``auto``.

    Returns:
        ``"delta"`` or ``"parquet"``.

    Raises:
        ConfigurationError: Delta was asked for but the session cannot write it.
    """
    extensions = spark.conf.get("spark.sql.extensions", "") or ""
    has_delta = on_databricks() or "delta" in extensions.lower()
    if settings.table_format == "auto":
        return "delta" if has_delta else "parquet"
    if settings.table_format == "delta" and not has_delta:
        raise ConfigurationError(
            "MOVIE_RAG_TABLE_FORMAT=delta but this Spark session has no Delta Lake "
            "(run on Databricks or configure delta-spark), or use 'auto'/'parquet'"
        )
    return settings.table_format


def arrow_to_spark(spark: SparkSession, table: pa.Table) -> DataFrame:
    """Create a Spark DataFrame from Arrow with the Arrow schema (empty tables included)."""
    from movie_rag.ingest.schemas import spark_schema

    if table.num_rows == 0:
        return spark.createDataFrame([], spark_schema(table.schema))
    return spark.createDataFrame(table)
