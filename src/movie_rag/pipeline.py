"""The build pipeline: files → bronze tables → movies_info, as one call."""

from __future__ import annotations

import errno
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa

from movie_rag._fault import fault_point
from movie_rag.errors import WorkdirError
from movie_rag.ingest.imdb import IMDBFormat, IMDBLoader, IMDBSource
from movie_rag.ingest.movie_info import MovieInfoBuilder
from movie_rag.ingest.movielens import MovieLensLoader
from movie_rag.ingest.report import BuildReport
from movie_rag.platform import platform_for
from movie_rag.progress import report_count
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from movie_rag.tables import TableStore

__all__ = ["build_catalogue"]

logger = logging.getLogger("movie_rag")

Progress = Callable[[str], None]


def build_catalogue(
    settings: MovieRagSettings,
    movielens_dir: str | Path,
    imdb_paths: Sequence[str | Path] = (),
    *,
    genome_dir: str | Path | None = None,
    imdb_format: IMDBFormat = "auto",
    spark: SparkSession | None = None,
    mode: Literal["merge", "overwrite"] = "merge",
    index: bool = True,
    progress: Progress | None = None,
    lock_timeout: float = -1,
) -> BuildReport:
    """Ingest MovieLens and IMDB files and write the bronze tables and ``movies_info``.

    A local build first checks that the workdir can be written, then holds the workdir's
    build lock (a second build into the same workdir waits, saying so through ``progress``
    and the log). What readers use is published together: ``recommend`` and the served
    model read the rows of ``movies_info`` that the live index version was built from, so
    a build stopped at any point (even by ``kill -9``) leaves them on the previous build
    until the new index is current. Re-running the build resumes from the embedding cache.

    Args:
        settings: Backend, names, workdir.
        movielens_dir: A MovieLens release directory.
        imdb_paths: IMDB-like files (any supported format, auto-detected).
        genome_dir: Where the genome files are, if not in ``movielens_dir``.
        imdb_format: Force one format for every IMDB path.
        spark: A session to use (default: the active one, or a local one).
        mode: ``merge`` (update changed rows) or ``overwrite``.
        index: Also build or sync the vector index (re-embedding only changed movies).
        progress: Called with the name of each stage as it starts.
        lock_timeout: Seconds to wait for another build of the same workdir (negative: as
            long as it runs).

    Returns:
        The build report (also saved as ``reports/build.json`` in a local workdir).

    Raises:
        InputFileError: An input is unusable (the message names the file).
        WorkdirError: The local workdir is read-only, full, or another build still holds
            it after ``lock_timeout`` seconds.
    """
    say = progress or (lambda stage: None)

    def run() -> BuildReport:
        return _build_catalogue(
            settings,
            movielens_dir,
            imdb_paths,
            genome_dir=genome_dir,
            imdb_format=imdb_format,
            spark=spark,
            mode=mode,
            index=index,
            progress=progress,
        )

    if not platform_for(settings).is_local:
        return run()
    workdir = Workdir(settings.workdir)
    workdir.check_writable()
    with workdir.build_lock(timeout=lock_timeout, on_wait=lambda msg: _waiting(say, msg)):
        try:
            return run()
        except OSError as exc:
            raise _write_failure(workdir, exc) from exc
        except Exception as exc:
            failure = _spark_write_failure(workdir, exc)
            if failure is None:
                raise
            raise failure from exc


def _build_catalogue(
    settings: MovieRagSettings,
    movielens_dir: str | Path,
    imdb_paths: Sequence[str | Path] = (),
    *,
    genome_dir: str | Path | None = None,
    imdb_format: IMDBFormat = "auto",
    spark: SparkSession | None = None,
    mode: Literal["merge", "overwrite"] = "merge",
    index: bool = True,
    progress: Progress | None = None,
) -> BuildReport:
    """Ingest MovieLens and IMDB files and write the bronze tables and ``movies_info``.

    Args:
        settings: Backend, names, workdir.
        movielens_dir: A MovieLens release directory.
        imdb_paths: IMDB-like files (any supported format, auto-detected).
        genome_dir: Where the genome files are, if not in ``movielens_dir``.
        imdb_format: Force one format for every IMDB path.
        spark: A session to use (default: the active one, or a local one).
        mode: ``merge`` (update changed rows) or ``overwrite``.
        index: Also build or sync the vector index (re-embedding only changed movies).
        progress: Called with the name of each stage as it starts; a
            [`ProgressDisplay`][movie_rag.progress.ProgressDisplay] also gets document counts
            while embedding.

    Returns:
        The build report (also saved as ``reports/build.json`` in a local workdir).
    """
    from movie_rag.spark import get_spark
    from movie_rag.tables import TableStore

    say = progress or (lambda stage: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    say("reading MovieLens")
    movielens = MovieLensLoader(settings).load(movielens_dir, genome_dir)
    imdb_loader = IMDBLoader(settings)
    sources: list[IMDBSource] = []
    for path in imdb_paths:
        say(f"reading {Path(path).name}")
        sources.append(imdb_loader.load(path, imdb_format))
    lap("read")

    say("starting Spark")
    spark = spark or get_spark(settings)
    store = TableStore(spark, settings)
    lap("spark")

    say("writing bronze tables")
    MovieLensLoader(settings).write_bronze(movielens, store)
    for fmt, tables in _by_format(sources).items():
        store.write(pa.concat_tables(tables), f"imdb_{fmt}", "bronze")
    lap("bronze")

    say("building movies_info")
    report = MovieInfoBuilder(settings).build(movielens, sources, store=store, mode=mode)
    lap("movies_info")
    fault_point("movies_info")
    if settings.collab_enabled and movielens.ratings.num_rows:
        say("training the collaborative model")
        report.collab = _train_collab(settings, movielens.ratings, store)
        lap("collab")
    if index:
        say("indexing movies_info")
        report.index = _sync_index(settings, say)
        lap("index")
    report.warnings = [*report.warnings, *report.input_warnings()]
    report.timings = {**timings, **{f"movies_info.{k}": v for k, v in report.timings.items()}}
    if platform_for(settings).is_local:
        reports = Workdir(settings.workdir).reports
        reports.mkdir(parents=True, exist_ok=True)
        (reports / "build.json").write_text(json.dumps(report.model_dump(), indent=2) + "\n")
    return report


def _waiting(say: Progress, message: str) -> None:
    logger.warning("%s", message)
    say(message)


# errno values and Java messages that mean the workdir, not the input, is the problem.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT})
_WRITE_MESSAGES = ("No space left on device", "Read-only file system", "Permission denied")


def _write_failure(workdir: Workdir, exc: OSError) -> Exception:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if exc.errno in _WRITE_ERRNOS or any(m in text for m in _WRITE_MESSAGES):
        return WorkdirError(workdir.root, f"a write failed ({text}); free space or fix access")
    return WorkdirError(workdir.root, f"I/O error during the build ({text})")


def _spark_write_failure(workdir: Workdir, exc: Exception) -> WorkdirError | None:
    """A one-line error for a Spark failure caused by the workdir (its Java trace is long)."""
    text = str(exc)
    for message in _WRITE_MESSAGES:
        if message in text:
            return WorkdirError(
                workdir.root, f"Spark could not write ({message}); free space or fix access"
            )
    return None


def _sync_index(settings: MovieRagSettings, say: Progress) -> dict[str, float]:
    from movie_rag.index.manager import VectorIndexManager

    manager = VectorIndexManager(settings)

    def embedding_progress(done: int, total: int) -> None:
        if done == 0:
            say("embedding documents")
        report_count(say, done, total, unit="documents")

    sync = manager.sync(progress=embedding_progress)
    return {
        "added": sync.added,
        "updated": sync.updated,
        "deleted": sync.deleted,
        "unchanged": sync.unchanged,
        "embedded": sync.embedded,
        "seconds": round(sync.seconds, 3),
    }


def _train_collab(
    settings: MovieRagSettings, ratings: pa.Table, store: TableStore
) -> dict[str, float]:
    from movie_rag.collab.model import train_collaborative

    # Spark trains on the bronze table (a Unity Catalog table on Databricks); the Arrow copy
    # is fingerprinted so an unchanged ratings file skips training.
    frame = store.read("movielens_ratings", "bronze")
    summary = train_collaborative(settings, ratings, ratings_frame=frame)
    fault_point("collab")
    return {key: float(value) for key, value in summary.items()}


def _by_format(sources: Sequence[IMDBSource]) -> dict[str, list[pa.Table]]:
    grouped: dict[str, list[pa.Table]] = {}
    for source in sources:
        grouped.setdefault(source.format, []).append(source.table)
    return grouped
