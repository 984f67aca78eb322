"""MovieInfoBuilder: MovieLens + any number of IMDB-like sources → the movies_info table."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from pydantic import BaseModel, Field

from movie_rag.catalog.schemas import IMDB_RECORD_SCHEMA, MOVIES_INFO_SCHEMA
from movie_rag.ingest.aggregates import genome_tag_lists, rating_stats, user_tag_lists
from movie_rag.ingest.documents import DocumentTemplate, content_hash, default_counter, token_limit
from movie_rag.ingest.ids import imdb_url
from movie_rag.ingest.movielens import MovieLensData
from movie_rag.ingest.report import BuildReport, FieldCoverage, InputSummary, SourceMatches
from movie_rag.settings import MovieRagSettings
from movie_rag.spark import arrow_to_spark, spark_to_arrow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from movie_rag.ingest.imdb import IMDBSource
    from movie_rag.tables import TableStore

__all__ = ["MovieInfoBuilder", "SourcePrecedence"]

logger = logging.getLogger("movie_rag")


def _ranked(group: str) -> Any:
    def default() -> list[str]:
        from movie_rag.ingest.imdb.registry import default_precedence

        return default_precedence(group)

    return Field(default_factory=default)


def billed_first(
    billed: list[str] | None, credited: list[str] | None, directors: list[str] | None = None
) -> list[str]:
    """The cast with the billed stars first, then the other credits, each name once.

    Some sources list cast in credit order (who appears first on screen), which would make a
    minor part the lead of a reason; a billing-ordered source puts the stars in front. A
    billed name that is one of the directors and not credited as cast is left out: the
    top-1000 set writes a film's second director as its first star.

    Args:
        billed: Names in billing order (may be short: e.g. the four top-billed stars).
        credited: The fuller cast from the ``people`` source, in its own order.
        directors: The film's directors.

    Returns:
        The merged cast; names compared without case or surrounding spaces.

    Example:
        >>> billed_first(["Jodie Foster", "Anthony Hopkins"], ["Jodie Foster", "Kasi Lemmons"])
        ['Jodie Foster', 'Anthony Hopkins', 'Kasi Lemmons']
    """

    def key(name: str) -> str:
        return name.strip().casefold()

    credited = credited or []
    not_cast = {key(d) for d in directors or []} - {key(c) for c in credited}
    merged: dict[str, str] = {}
    for name in [*(n for n in billed or [] if key(n) not in not_cast), *credited]:
        merged.setdefault(key(name), name)
    return list(merged.values())


class SourcePrecedence(BaseModel):
    """Which source wins each field when several describe the same movie.

    Each list is tried in order and the first non-empty value is taken; a source missing from a
    list is never used for that field. MovieLens' own title, year and genres always win; the
    ``genres`` and ``year`` lists only fill movies MovieLens leaves empty.

    The defaults rank the registered IMDB-like formats by the strength each declares for the
    field group (:attr:`~movie_rag.ingest.imdb.FormatSpec.strengths`), read when the model is
    created: a format registered before then is ranked like the built-in ones.
    """

    overview: list[str] = _ranked("overview")
    people: list[str] = _ranked("people")
    billing: list[str] = _ranked("billing")
    ratings: list[str] = _ranked("ratings")
    keywords: list[str] = _ranked("keywords")
    genres: list[str] = _ranked("genres")
    year: list[str] = _ranked("year")


class MovieInfoBuilder:
    """Join MovieLens with IMDB-like sources into ``movies_info`` and write it.

    Records attach to movies by ``imdb_id`` first, then ``tmdb_id`` (only when the years agree:
    some MovieLens tmdb links point at another film), then normalised title + year (exact year
    preferred, ``title_year_tolerance`` years of slack, ambiguous matches skipped and counted).

    Args:
        settings: Settings (token limit model, Bayesian prior, genome threshold, table names).
        template: How the embedded ``document`` text is laid out.
        precedence: Which source wins each field.

    Example:
        >>> builder = MovieInfoBuilder(MovieRagSettings(workdir="/tmp/wd"))  # doctest: +SKIP
        >>> report = builder.build(movielens, [imdb_source], store=store)  # doctest: +SKIP
        >>> report.rows  # doctest: +SKIP
        9742
    """

    def __init__(
        self,
        settings: MovieRagSettings | None = None,
        *,
        template: DocumentTemplate | None = None,
        precedence: SourcePrecedence | None = None,
    ) -> None:
        self.settings = settings or MovieRagSettings()
        self.template = template or DocumentTemplate()
        self.precedence = precedence or SourcePrecedence()
        self.max_tokens = token_limit(
            self.settings.embedding_model, self.settings.document_max_tokens
        )

    def __repr__(self) -> str:
        return (
            f"MovieInfoBuilder(model={self.settings.embedding_model!r}, "
            f"max_tokens={self.max_tokens})"
        )

    def build(
        self,
        movielens: MovieLensData,
        imdb: Sequence[IMDBSource] = (),
        *,
        store: TableStore,
        mode: Literal["merge", "overwrite"] = "merge",
    ) -> BuildReport:
        """Assemble movies_info and write it (with the quarantine) through ``store``.

        Args:
            movielens: A loaded MovieLens release.
            imdb: Loaded IMDB-like sources, any number, any formats.
            store: Where the table goes.
            mode: ``merge`` updates changed rows only (Delta MERGE with change data feed);
                ``overwrite`` replaces the table.

        Returns:
            The build report.
        """
        table, report = self.assemble(movielens, imdb, spark=store.spark)
        started = time.perf_counter()
        if mode == "merge":
            stats = store.merge(table, self.settings.movies_info_table, key="movie_id")
            report.changes = {
                "inserted": stats.inserted,
                "updated": stats.updated,
                "deleted": stats.deleted,
                "unchanged": stats.unchanged,
            }
        else:
            store.write(table, self.settings.movies_info_table, change_data_feed=True)
            report.changes = {"inserted": table.num_rows}
        report.table = store.location(self.settings.movies_info_table)
        report.quarantine_location = store.write_quarantine(_quarantine_rows(movielens, imdb))
        report.timings["write"] = round(time.perf_counter() - started, 3)
        logger.info("movies_info: %d rows written to %s", report.rows, report.table)
        return report

    def assemble(
        self,
        movielens: MovieLensData,
        imdb: Sequence[IMDBSource] = (),
        *,
        spark: SparkSession,
    ) -> tuple[pa.Table, BuildReport]:
        """Compute movies_info without writing it.

        Returns:
            The table (``MOVIES_INFO_SCHEMA``, sorted by movie_id) and its report.
        """
        timings: dict[str, float] = {}
        started = time.perf_counter()
        joined, attached, matches = self._join(movielens, imdb, spark)
        rows = spark_to_arrow(joined.orderBy("movie_id")).to_pylist()
        for row in rows:
            row["records"] = attached.get(row["movie_id"], [])
        timings["join"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        counter = default_counter()
        out, truncated, tokens = [], 0, 0
        for row in rows:
            info = self._assemble_row(row)
            text = self.template.render(info)
            document, n_tokens = counter.fit(text, self.max_tokens)
            truncated += document != text
            tokens += n_tokens
            info["document"] = document
            info["content_hash"] = content_hash(info)
            out.append(info)
        table = pa.Table.from_pylist(out, schema=MOVIES_INFO_SCHEMA)
        timings["documents"] = round(time.perf_counter() - started, 3)
        report = BuildReport(
            table="",
            rows=table.num_rows,
            inputs=_input_summaries(movielens, imdb),
            quarantined=_quarantine_counts(movielens, imdb),
            orphans=dict(movielens.orphans),
            warnings=[*movielens.warnings, *(w for src in imdb for w in src.warnings)],
            matches=matches,
            coverage=_coverage(table),
            unmapped_genres=_unmapped_genres(imdb),
            document_max_tokens=self.max_tokens,
            documents_truncated=truncated,
            document_tokens_mean=round(tokens / max(len(out), 1), 1),
            timings=timings,
        )
        return table, report

    # -- Spark joins ----------------------------------------------------------------------

    def _join(
        self, movielens: MovieLensData, imdb: Sequence[IMDBSource], spark: SparkSession
    ) -> tuple[DataFrame, dict[int, list[dict[str, Any]]], dict[str, SourceMatches]]:
        """Aggregate MovieLens and match IMDB records, in as few Spark jobs as possible.

        Two jobs in all: the matching outcomes (small: one row per matched record) and the
        per-movie aggregates. Matched records are attached to their movies in Python, which
        spares a shuffle of every record's text through the JVM.
        """
        s = self.settings
        movies = arrow_to_spark(spark, movielens.movies)
        # An absent input (no genome, no tags) costs no Spark job: its columns stay empty.
        aggregates = []
        if movielens.ratings.num_rows:
            ratings = arrow_to_spark(spark, movielens.ratings)
            aggregates.append(rating_stats(ratings, s.bayes_prior_count))
        if movielens.genome_scores.num_rows and movielens.genome_tags.num_rows:
            scores = arrow_to_spark(spark, movielens.genome_scores)
            tags = arrow_to_spark(spark, movielens.genome_tags)
            aggregates.append(genome_tag_lists(scores, tags, s.genome_threshold, s.genome_max_tags))
        if movielens.tags.num_rows:
            aggregates.append(user_tag_lists(arrow_to_spark(spark, movielens.tags)))
        records_table = (
            pa.concat_tables([src.table for src in imdb])
            if imdb
            else IMDB_RECORD_SCHEMA.empty_table()
        )
        # A build-wide record number: two files of one format share (source, source_row).
        records_table = records_table.append_column(
            "record", pa.array(range(records_table.num_rows), pa.int64())
        )
        records = arrow_to_spark(spark, records_table)
        outcomes = spark_to_arrow(self._match(movies, records))
        attached, report = _attach(outcomes, records_table)
        joined = movies
        for aggregate in aggregates:
            joined = joined.join(aggregate, "movie_id", "left")
        return joined, attached, report

    def _match(self, movies: DataFrame, records: DataFrame) -> DataFrame:
        """Every matching outcome: movie_id, source, record, how.

        ``how`` is ``imdb_id``, ``tmdb_id`` or ``title`` for a match, ``tmdb_conflict`` for a
        tmdb_id join refused because the years disagree, ``ambiguous`` for a title match
        skipped because several records of one source fit the same movie equally well.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        tol = self.settings.title_year_tolerance
        rec = records.select("record", "source", "imdb_id", "tmdb_id", "title_key", "year")
        m = movies.select(
            "movie_id",
            "imdb_id",
            "tmdb_id",
            "title_key",
            "alt_title_keys",
            F.col("year").alias("ml_year"),
        )
        by_imdb = (
            rec.where(F.col("imdb_id").isNotNull())
            .join(m.select("movie_id", "imdb_id"), "imdb_id")
            .select("movie_id", "source", "record", F.lit("imdb_id").alias("how"))
        )
        tmdb_pairs = (
            rec.where(F.col("imdb_id").isNull() & F.col("tmdb_id").isNotNull())
            .join(m.select("movie_id", "tmdb_id", "ml_year"), "tmdb_id")
            .withColumn(
                "year_ok",
                F.col("year").isNull()
                | F.col("ml_year").isNull()
                | (F.abs(F.col("year") - F.col("ml_year")) <= tol),
            )
        )
        by_tmdb = tmdb_pairs.where("year_ok").select(
            "movie_id", "source", "record", F.lit("tmdb_id").alias("how")
        )
        tmdb_conflicts = tmdb_pairs.where(~F.col("year_ok")).select(
            "movie_id", "source", "record", F.lit("tmdb_conflict").alias("how")
        )

        id_matched = by_imdb.unionByName(by_tmdb)
        keys = m.select(
            "movie_id",
            "ml_year",
            F.explode(F.array_distinct(F.concat(F.array("title_key"), "alt_title_keys"))).alias(
                "title_key"
            ),
        )
        candidates = (
            rec.where(F.col("imdb_id").isNull() & F.col("year").isNotNull())
            .join(id_matched.select("record"), "record", "left_anti")
            .join(keys, "title_key")
            .where(F.col("ml_year").isNotNull() & (F.abs(F.col("year") - F.col("ml_year")) <= tol))
            .join(id_matched.select("movie_id", "source"), ["movie_id", "source"], "left_anti")
            .withColumn("distance", F.abs(F.col("year") - F.col("ml_year")))
            .dropDuplicates(["movie_id", "record"])
        )
        per_record = Window.partitionBy("record")
        best = candidates.withColumn("best", F.min("distance").over(per_record)).where(
            F.col("distance") == F.col("best")
        )
        per_movie = Window.partitionBy("movie_id", "source")
        best = best.withColumn("choices", F.count("*").over(per_movie))
        outcome = F.when(F.col("choices") == 1, "title").otherwise("ambiguous")
        by_title = best.select("movie_id", "source", "record", outcome.alias("how"))
        return id_matched.unionByName(tmdb_conflicts).unionByName(by_title)

    # -- per-movie assembly ---------------------------------------------------------------

    def _assemble_row(self, row: dict[str, Any]) -> dict[str, Any]:
        p = self.precedence
        records = sorted(row.get("records") or [], key=lambda r: (r["source"], r["source_row"]))
        by_source: dict[str, dict[str, Any]] = {}
        for record in records:
            by_source.setdefault(record["source"], record)

        def pick(name: str, order: list[str]) -> Any:
            for source in order:
                value = by_source.get(source, {}).get(name)
                if value not in (None, "", []):
                    return value
            return None

        rated = next(
            (
                by_source[s]
                for s in p.ratings
                if by_source.get(s, {}).get("imdb_rating") is not None
            ),
            None,
        )
        imdb_rating = rated["imdb_rating"] if rated else None
        imdb_votes = rated["votes"] if rated else None
        count = int(row.get("ml_rating_count") or 0)
        bayes = row.get("ml_rating_bayes")
        rating = (
            imdb_rating
            if imdb_rating is not None
            else (round(2 * bayes, 2) if bayes is not None else None)
        )
        imdb_id = row.get("imdb_id")
        directors = list(pick("directors", p.people) or [])
        return {
            "movie_id": row["movie_id"],
            "title": row["title"],
            "year": row.get("year") or pick("year", p.year),
            "genres": list(row.get("genres") or pick("genres", p.genres) or []),
            "imdb_id": imdb_id,
            "tmdb_id": row.get("tmdb_id"),
            "overview": pick("overview", p.overview),
            "directors": directors,
            "cast": billed_first(pick("cast", p.billing), pick("cast", p.people), directors),
            "keywords": list(pick("keywords", p.keywords) or []),
            "genome_tags": [
                {"tag": t["tag"], "relevance": t["relevance"]} for t in row.get("genome_tags") or []
            ],
            "user_tags": list(row.get("user_tags") or []),
            "ml_rating_mean": row.get("ml_rating_mean"),
            "ml_rating_count": count,
            "ml_rating_bayes": bayes,
            "imdb_rating": imdb_rating,
            "imdb_votes": imdb_votes,
            "rating": rating,
            "votes": imdb_votes if imdb_votes is not None else count,
            "url": imdb_url(imdb_id),
            "poster_path": pick("poster_path", list(_POSTER_SOURCES)),
            "sources": ["movielens", *sorted(by_source)],
        }


def _attach(
    outcomes: pa.Table, records: pa.Table
) -> tuple[dict[int, list[dict[str, Any]]], dict[str, SourceMatches]]:
    """Records per matched movie, and the per-source matching report."""
    report = {
        source: SourceMatches(records=n)
        for source, n in Counter(records.column("source").to_pylist()).items()
    }
    by_record = records.to_pylist()
    attached: dict[int, list[dict[str, Any]]] = {}
    movies: dict[tuple[str, str], set[int]] = {}
    used: dict[str, set[int]] = {}
    for row in outcomes.to_pylist():
        source, how, movie_id, record = row["source"], row["how"], row["movie_id"], row["record"]
        movies.setdefault((source, how), set()).add(movie_id)
        if how in ("imdb_id", "tmdb_id", "title"):
            attached.setdefault(movie_id, []).append(by_record[record])
            used.setdefault(source, set()).add(record)
    for (source, how), ids in movies.items():
        entry = report[source]
        if how == "tmdb_conflict":
            entry.tmdb_year_conflicts = len(ids)
        elif how == "ambiguous":
            entry.ambiguous = len(ids)
        else:
            setattr(entry, f"by_{how}", len(ids))
    for source, entry in report.items():
        entry.unmatched_records = entry.records - len(used.get(source, ()))
    return attached, dict(sorted(report.items()))


def _input_summaries(movielens: MovieLensData, imdb: Sequence[IMDBSource]) -> list[InputSummary]:
    loaded = movielens.rows_loaded()
    orphaned = movielens.rows_orphaned()
    summaries = [
        InputSummary(
            source=f"movielens_{role}",
            path=str(movielens.files[role]),
            rows_in=movielens.rows_in[role],
            rows_loaded=loaded[role],
            rows_quarantined=movielens.quarantine.count(f"movielens_{role}"),
            rows_orphaned=orphaned[role],
        )
        for role in movielens.rows_in
    ]
    for src in imdb:
        summaries.append(
            InputSummary(
                source=f"imdb_{src.format}",
                path=str(src.path),
                rows_in=src.rows_in,
                rows_loaded=src.rows_loaded,
                rows_quarantined=src.quarantine.count(),
                values_nulled=src.nulled_counts(),
            )
        )
    return summaries


def _quarantine_counts(movielens: MovieLensData, imdb: Sequence[IMDBSource]) -> dict[str, int]:
    counts: Counter[str] = Counter(movielens.quarantine.counts())
    for src in imdb:
        counts.update(src.quarantine.counts())
    return dict(sorted(counts.items()))


def _quarantine_rows(movielens: MovieLensData, imdb: Sequence[IMDBSource]) -> list[dict[str, Any]]:
    rows = movielens.quarantine.as_dicts()
    for src in imdb:
        rows.extend(src.quarantine.as_dicts())
    return rows


def _unmapped_genres(imdb: Sequence[IMDBSource]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for src in imdb:
        for names in src.table.column("unmapped_genres").to_pylist():
            counts.update(names or [])
    return dict(counts.most_common())


#: The sources whose records carry a TMDB poster path, in order of preference.
_POSTER_SOURCES = ("movies_dataset", "tmdb_5000")

_COVERED = (
    "year",
    "genres",
    "imdb_id",
    "tmdb_id",
    "overview",
    "directors",
    "cast",
    "keywords",
    "genome_tags",
    "user_tags",
    "ml_rating_mean",
    "imdb_rating",
    "rating",
    "url",
    "poster_path",
)


def _coverage(table: pa.Table) -> dict[str, FieldCoverage]:
    total = max(table.num_rows, 1)
    coverage = {}
    for name in _COVERED:
        values = table.column(name).to_pylist()
        count = sum(1 for v in values if v not in (None, "", []))
        coverage[name] = FieldCoverage(count=count, share=round(count / total, 4))
    return coverage
