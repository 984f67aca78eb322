"""The Spark session: Databricks' active one, else a quiet local session under the workdir."""

from __future__ import annotations

import logging
import os
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from movie_rag.errors import ConfigurationError
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = [
    "arrow_to_spark",
    "get_spark",
    "is_connect",
    "on_databricks",
    "spark_major",
    "spark_to_arrow",
    "table_format",
]

logger = logging.getLogger("movie_rag")


def on_databricks() -> bool:
    """Whether this process runs on a Databricks cluster (the runtime sets this variable)."""
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def get_spark(settings: MovieRagSettings | None = None) -> SparkSession:
    """Return the active Spark session, or start a local one.

    On Databricks (or wherever a session is already active, classic or Spark Connect) the
    active session is reused untouched. Otherwise a local session starts with its warehouse
    and scratch space under the workdir, quiet logs, loopback-only networking and few shuffle
    partitions (the data is small), with Arrow enabled for pandas/Arrow conversion.

    With ``SPARK_REMOTE`` set (pyspark's own switch; ``spark_master`` set to an ``sc://``
    URL does the same) the session is a Spark Connect client instead: ``sc://host:port``
    connects to a running server, and ``local[N]`` (pyspark 4) starts a local Connect server
    in this process with the same settings. No code path needs the classic session's
    ``sparkContext`` or JVM.

    Args:
        settings: Settings; ``spark_master``, ``spark_driver_memory``,
            ``spark_shuffle_partitions`` and ``workdir`` are used.

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
    remote = os.environ.get("SPARK_REMOTE") or (
        settings.spark_master if settings.spark_master.startswith("sc://") else None
    )
    if remote:
        logger.info("connecting to Spark Connect (%s)", remote)
        builder = SparkSession.builder.remote(remote)
    else:
        logger.info("starting local Spark (%s) under %s", settings.spark_master, workdir.spark)
        builder = SparkSession.builder.master(settings.spark_master)
    from movie_rag.logs import jvm_output_redirected

    configured = (
        builder.appName("movie_rag")
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
        session: SparkSession = configured.getOrCreate()
    if not is_connect(session):
        # Only on the classic session started here (a Connect session has no sparkContext).
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


def spark_major() -> int:
    """The major version of the installed pyspark client (3 or 4).

    The client library decides which conversion APIs exist (``createDataFrame(pyarrow.Table)``
    is pyspark 4's), for a classic session and a Spark Connect one alike, so this needs no
    round trip to the server.
    """
    import pyspark

    return int(pyspark.__version__.split(".")[0])


def is_connect(spark: SparkSession) -> bool:
    """Whether ``spark`` is a Spark Connect session rather than a classic one.

    Spark Connect sessions are what Databricks standard (shared) access mode, serverless
    compute and ``SPARK_REMOTE`` give: no JVM in this process, no ``sparkContext``.
    """
    return type(spark).__module__.startswith("pyspark.sql.connect")


def arrow_to_spark(
    spark: SparkSession, table: pa.Table, schema: StructType | None = None
) -> DataFrame:
    """Create a Spark DataFrame from an Arrow table, exactly, with an explicit schema.

    The one Arrow → Spark conversion of the library. pyspark 4 (classic and Spark Connect)
    takes the Arrow table as it is. pyspark 3.5 cannot (``createDataFrame(pyarrow.Table)``
    fails with ``CANNOT_INFER_SCHEMA_FOR_TYPE``), so there the table goes through pandas with
    nullable integer columns, which keeps integers exact (plain pandas would turn an int64
    column with nulls into float64). Empty tables keep their schema on every version.

    Args:
        spark: The session (classic or Spark Connect, pyspark 3.5 or 4.x).
        table: The data.
        schema: The Spark schema; default the Spark form of ``table.schema``.

    Returns:
        A DataFrame with ``table``'s rows and ``schema``.

    Raises:
        ConfigurationError: pyspark 3.5 on Python 3.12 without setuptools (its Arrow
            conversion imports ``distutils``).
    """
    from movie_rag.catalog.schemas import spark_schema

    _check_distutils()
    schema = schema if schema is not None else spark_schema(table.schema)
    if table.num_rows == 0:
        return spark.createDataFrame([], schema)
    if spark_major() >= 4:
        return spark.createDataFrame(table, schema)
    return spark.createDataFrame(_to_pandas(table), schema)


def spark_to_arrow(frame: DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    """Collect a Spark DataFrame as an Arrow table, exactly, with an explicit schema.

    The one Spark → Arrow conversion of the library. ``DataFrame.toArrow()`` where the
    runtime has it (pyspark 4.0+, Databricks Runtime 15.3+, classic and Spark Connect); on
    classic pyspark 3.5 the Arrow batches pyspark itself collects for ``toPandas``; on a
    Spark Connect 3.5 session ``toPandas`` (integers of nullable columns beyond 2**53 would
    lose precision there; no column of movie_rag comes near). The result always has the
    Arrow form of the frame's Spark schema (``int`` → int32, ``array<string>`` →
    ``list<string>``), whichever path produced it, so every runtime returns the same types.

    Args:
        frame: The DataFrame to collect (on the driver: keep it small).
        schema: Select and cast to these columns (an empty result keeps this schema);
            default the Arrow form of ``frame.schema``.

    Returns:
        The rows in the frame's order.

    Raises:
        ConfigurationError: pyspark 3.5 on Python 3.12 without setuptools.
    """
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    _check_distutils()
    natural = to_arrow_schema(frame.schema)
    # Looked up on the class: a DataFrame's own attribute lookup answers column names.
    methods = type(frame)
    table: pa.Table
    if hasattr(methods, "toArrow"):
        table = frame.toArrow()
    elif hasattr(methods, "_collect_as_arrow"):
        # Classic pyspark 3.5: the batches toPandas (and pyspark 4's toArrow) are made of.
        batches = methods._collect_as_arrow(frame)
        table = pa.Table.from_batches(batches) if batches else natural.empty_table()
    else:
        table = pa.Table.from_pandas(frame.toPandas(), schema=natural, preserve_index=False)
    if table.schema != natural:
        table = table.cast(natural)
    if schema is None:
        return table
    if table.num_rows == 0:
        return schema.empty_table()
    return table.select(schema.names).cast(schema)


def _to_pandas(table: pa.Table) -> Any:
    import pandas as pd
    import pyarrow as pa

    nullable = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    return table.to_pandas(types_mapper=nullable.get)


def _check_distutils() -> None:
    if sys.version_info < (3, 12) or spark_major() >= 4:
        return
    import importlib.util

    if importlib.util.find_spec("distutils") is None:
        raise ConfigurationError(
            "pyspark 3.5 on Python 3.12 needs setuptools for its Arrow conversion (it "
            "imports distutils): `pip install setuptools`, or `pip install 'movie-rag[spark]'`"
        )
