"""Building and syncing the index: Delta Sync (managed) or Direct Access (self-managed)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_rag.errors import ConfigurationError
from movie_rag.index._table import prepare, read_table
from movie_rag.index.base import IndexMismatchError, ProgressCallback, SyncReport, TableSource
from movie_rag.index.databricks.codec import (
    MODEL_COLUMN,
    PRIMARY_KEY,
    SOURCE_COLUMN,
    UC_NAME,
    VECTOR_COLUMN,
    encode,
    from_value,
    origin,
)
from movie_rag.index.databricks.embedder import Embedder
from movie_rag.index.databricks.errors import VectorSearchError, _Missing
from movie_rag.index.databricks.lifecycle import _Lifecycle

logger = logging.getLogger("movie_rag")

_SCAN_PAGE = 1000
_UPSERT_BATCH = 200
_EMBED_CHUNK = 256


class _Sync(_Lifecycle):
    """``build`` and ``sync``: what changed in the table reaches the index."""

    def build(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Create the endpoint and index as needed and bring the index up to date.

        An index whose definition differs from this one's (source table, embedding model
        or dimension, columns) is deleted and recreated. Building twice in a row changes
        nothing the second time: unchanged movies are neither re-embedded nor rewritten.

        Args:
            table: Managed: the Unity Catalog name of ``movies_info``. Self-managed: an Arrow
                table, a local movies_info directory, or a Unity Catalog name (read with
                ``table_reader``).
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            What changed in the index.

        Raises:
            VectorSearchQuotaError: No endpoint may be created (or no index on it).
            EmbeddingEndpointNotFoundError: The managed embedding endpoint does not exist.
            IndexNotReadyError: The endpoint or index did not settle within ``timeout``.
            VectorSearchUnavailableError: The service kept failing through the retries.
        """
        return self._update(table, progress, replace=True)

    def sync(self, table: TableSource, *, progress: ProgressCallback | None = None) -> SyncReport:
        """Bring the index up to date with ``table``; without an index this is :meth:`build`.

        Managed: triggers the Delta Sync pipeline (which re-embeds changed rows) and waits
        for it. Self-managed: embeds and upserts new and changed movies, deletes the ones
        gone from the table, and leaves the rest alone.

        Args:
            table: As for :meth:`build`.
            progress: Called with ``(done, total)`` as documents are embedded.

        Returns:
            Counts of added, updated, deleted and unchanged movies.

        Raises:
            IndexMismatchError: The stored index was built with another embedding model or
                definition; run :meth:`build` to replace it.
        """
        return self._update(table, progress, replace=False)

    def _update(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        started = time.perf_counter()
        if self.managed:
            report = self._update_managed(table, progress, replace=replace)
        else:
            report = self._update_self_managed(table, progress, replace=replace)
        report = report.model_copy(update={"seconds": time.perf_counter() - started})
        self._synced_at = datetime.now(UTC)
        logger.info(
            "%s Vector Search index %s: %d added, %d updated, %d deleted, %d unchanged, "
            "%d embedded in %.1f s",
            "built" if replace else "synced",
            self.index_name,
            report.added,
            report.updated,
            report.deleted,
            report.unchanged,
            report.embedded,
            report.seconds,
        )
        return report

    def _update_managed(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        source = self._source_table(table)
        self._ensure_endpoint()
        self._check_embedding_endpoint()
        existing = self._describe_raw()
        if existing is not None and not self._managed_spec_matches(existing, source):
            if not replace:
                raise IndexMismatchError(
                    f"Vector Search index {self.index_name} is not a Delta Sync index of "
                    f"{source} embedded by {self.embedding_endpoint}; run build() to replace it"
                )
            logger.warning(
                "replacing Vector Search index %s: its definition changed", self.index_name
            )
            self.delete()
            existing = None
        before: dict[int, str] = {}
        if existing is None:
            self._create_managed_index(source)
        else:
            # An update still running would race the one we trigger: let it land first.
            self._wait_index(settled=True)
            before = self._stored_hashes()
            index = self._index()
            self._call("triggering the index sync", index.sync)
        self._wait_index(settled=True)
        after = self._stored_hashes()
        report = _diff(before, after)
        report = report.model_copy(update={"embedded": report.added + report.updated})
        if progress is not None:
            progress(report.embedded, report.embedded)
        return report

    def _source_table(self, table: TableSource) -> str:
        if isinstance(table, str) and UC_NAME.match(table):
            return table
        raise ConfigurationError(
            f"managed embeddings are computed by Databricks from a Unity Catalog table, but "
            f"got {origin(table)!r}; pass the table's three-part name "
            "('catalog.schema.movies_info'), or give the index an embedder (embeddings=...) "
            "for self-managed embeddings"
        )

    def _update_self_managed(
        self, table: TableSource, progress: ProgressCallback | None, *, replace: bool
    ) -> SyncReport:
        embedder = self._require_embedder()
        data = prepare(self._read(table), origin(table))
        self._ensure_endpoint()
        existing = self._describe_raw()
        if existing is not None and not self._direct_spec_matches(existing):
            if not replace:
                raise IndexMismatchError(
                    f"Vector Search index {self.index_name} was not written by this backend "
                    f"with {embedder.dimension}-d vectors from {embedder.model_name!r}; run "
                    "build() to replace it"
                )
            logger.warning(
                "replacing Vector Search index %s: its definition changed", self.index_name
            )
            self.delete()
            existing = None
        if existing is None:
            self._create_direct_index(embedder)
        self._wait_index(settled=False)
        stored = {} if existing is None else self._stored_rows()
        foreign = {row.get(MODEL_COLUMN) for row in stored.values()} - {embedder.model_name}
        if foreign and not replace:
            raise IndexMismatchError(
                f"Vector Search index {self.index_name} holds vectors from "
                f"{sorted(map(str, foreign))} but the embedder is {embedder.model_name!r}; "
                "run build() to re-embed it, or use the embedder it was built with"
            )
        plan = _plan(data.to_pylist(), stored, embedder.model_name, embedder.dimension)
        vectors = self._embed_missing(plan, embedder, progress)
        self._write(plan, vectors, embedder.model_name)
        self._wait_index(settled=True)
        return SyncReport(
            added=plan.added,
            updated=plan.updated,
            deleted=len(plan.deleted),
            unchanged=plan.unchanged,
            embedded=len(plan.to_embed),
        )

    def _read(self, table: TableSource) -> pa.Table:
        if isinstance(table, pa.Table):
            return table
        if isinstance(table, str) and UC_NAME.match(table) and not Path(table).exists():
            return self._read_catalog_table(table)
        return read_table(table)

    def _read_catalog_table(self, name: str) -> pa.Table:
        if self.table_reader is not None:
            return self.table_reader(name)
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            session = None
        else:
            session = SparkSession.getActiveSession()
        if session is None:
            raise ConfigurationError(
                f"reading the Unity Catalog table {name} needs a Spark session (run on a "
                "Databricks cluster); elsewhere pass an Arrow table or a local movies_info "
                "directory, or table_reader=<a function reading it>"
            )
        from movie_rag.spark import spark_to_arrow

        return spark_to_arrow(session.table(name))

    def _embed_missing(
        self, plan: _Plan, embedder: Embedder, progress: ProgressCallback | None
    ) -> dict[int, list[float]]:
        vectors = dict(plan.reused)
        total = len(plan.to_embed)
        if progress is not None:
            progress(0, total)
        for start in range(0, total, _EMBED_CHUNK):
            chunk = plan.to_embed[start : start + _EMBED_CHUNK]
            fresh = embedder.documents(
                [plan.records[movie_id][SOURCE_COLUMN] for movie_id in chunk]
            )
            vectors.update(zip(chunk, fresh, strict=True))
            if progress is not None:
                progress(start + len(chunk), total)
        return vectors

    def _write(self, plan: _Plan, vectors: Mapping[int, list[float]], model: str) -> None:
        index = self._index()
        rows = [
            encode(plan.records[movie_id], vectors[movie_id], model) for movie_id in plan.to_write
        ]
        for start in range(0, len(rows), _UPSERT_BATCH):
            batch = rows[start : start + _UPSERT_BATCH]
            answer = self._call("upserting rows", partial(index.upsert, batch))
            _check_write(answer, "upsert", self.index_name, len(batch))
        for start in range(0, len(plan.deleted), _UPSERT_BATCH):
            keys = [str(k) for k in plan.deleted[start : start + _UPSERT_BATCH]]
            answer = self._call("deleting rows", partial(index.delete, keys))
            _check_write(answer, "delete", self.index_name, len(keys))

    def _scan(self, page_size: int = _SCAN_PAGE) -> Iterator[dict[str, Any]]:
        """Every row of the index, in primary-key order (the scan route pages through it)."""
        # The SDK's raw API client, not the vector-search client: the latter rewrites every
        # key of the nested row values, which takes a minute for 10,000 stored vectors.
        path = f"/api/2.0/vector-search/indexes/{self.index_name}/scan"
        last: str | None = None
        while True:
            body: dict[str, Any] = {"num_results": page_size}
            if last is not None:
                body["last_primary_key"] = last
            try:
                page = self._sdk("scanning the index", "POST", path, body)
            except _Missing as exc:
                raise self._not_built() from exc
            rows = page.get("data") or []
            for row in rows:
                yield {f["key"]: from_value(f.get("value")) for f in row.get("fields", [])}
            last = page.get("last_primary_key")
            if len(rows) < page_size or not last:
                return

    def _stored_hashes(self) -> dict[int, str]:
        return {
            int(row[PRIMARY_KEY]): str(row.get("content_hash"))
            for row in self._scan()
            if row.get(PRIMARY_KEY) is not None
        }

    def _stored_rows(self) -> dict[int, dict[str, Any]]:
        return {
            int(row[PRIMARY_KEY]): row for row in self._scan() if row.get(PRIMARY_KEY) is not None
        }


@dataclass
class _Plan:
    records: dict[int, dict[str, Any]]
    to_write: list[int] = field(default_factory=list)
    to_embed: list[int] = field(default_factory=list)
    reused: dict[int, list[float]] = field(default_factory=dict)
    deleted: list[int] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def _plan(
    records: list[dict[str, Any]],
    stored: Mapping[int, Mapping[str, Any]],
    model: str,
    dimension: int,
) -> _Plan:
    """Which rows to write and which to embed, comparing the table with the index."""
    plan = _Plan(records={int(r[PRIMARY_KEY]): r for r in records})
    for movie_id, record in plan.records.items():
        old = stored.get(movie_id)
        same_model = old is not None and old.get(MODEL_COLUMN) == model
        if old is not None and same_model and old.get("content_hash") == record["content_hash"]:
            plan.unchanged += 1
            continue
        if old is None:
            plan.added += 1
        else:
            plan.updated += 1
        plan.to_write.append(movie_id)
        vector = old.get(VECTOR_COLUMN) if old is not None else None
        reusable = (
            same_model
            and old is not None
            and old.get(SOURCE_COLUMN) == record[SOURCE_COLUMN]
            and isinstance(vector, list)
            and len(vector) == dimension
        )
        if reusable and isinstance(vector, list):
            plan.reused[movie_id] = [float(v) for v in vector]
        else:
            plan.to_embed.append(movie_id)
    plan.deleted = sorted(set(stored) - set(plan.records))
    return plan


def _diff(before: Mapping[int, str], after: Mapping[int, str]) -> SyncReport:
    added = sum(1 for k in after if k not in before)
    updated = sum(1 for k, v in after.items() if k in before and before[k] != v)
    unchanged = sum(1 for k, v in after.items() if before.get(k) == v)
    deleted = sum(1 for k in before if k not in after)
    return SyncReport(added=added, updated=updated, deleted=deleted, unchanged=unchanged)


def _check_write(answer: Any, verb: str, index_name: str, count: int) -> None:
    status = (answer or {}).get("status")
    if status in (None, "SUCCESS"):
        return
    failed = ((answer or {}).get("result") or {}).get("failed_primary_keys") or []
    raise VectorSearchError(
        f"{verb} of {count} rows into {index_name} ended {status}; failed movie_id(s): "
        f"{', '.join(map(str, failed[:10]))}{' ...' if len(failed) > 10 else ''}. The rows "
        "must match the index schema: run build() to recreate the index for this version"
    )
