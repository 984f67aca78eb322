"""The local inference log: append, partition by day, read back as Arrow."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from movie_rag.publish.inference_log import (
    INFERENCE_LOG_DIR_ENV,
    INFERENCE_LOG_SCHEMA,
    InferenceLog,
    InferenceRecord,
)


def _record(when: datetime, status: int = 200, **extra: object) -> InferenceRecord:
    return InferenceRecord(
        timestamp_ms=int(when.timestamp() * 1000),
        status_code=status,
        execution_time_ms=12,
        request='{"dataframe_records": [{"query": "x"}]}',
        response='{"predictions": ["y"]}',
        **extra,
    )


def test_records_land_in_day_partitions_and_read_back_in_time_order(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path / "inference")
    late = _record(datetime(2025, 3, 2, 0, 0, 1, tzinfo=UTC), client_request_id="c2")
    early = _record(datetime(2025, 3, 1, 23, 59, 59, tzinfo=UTC), status=400)
    log.append(late)
    log.append(early)

    files = log.files()
    assert [f.parent.name for f in files] == ["date=2025-03-01", "date=2025-03-02"]
    table = log.read()
    assert table.schema == INFERENCE_LOG_SCHEMA
    assert table.column("request_id").to_pylist() == [early.request_id, late.request_id]
    assert table.column("date").to_pylist() == [date(2025, 3, 1), date(2025, 3, 2)]
    assert table.column("status_code").to_pylist() == [400, 200]
    assert table.column("client_request_id").to_pylist() == [None, "c2"]
    assert log.read(since=date(2025, 3, 2)).column("request_id").to_pylist() == [late.request_id]


def test_an_empty_log_reads_as_an_empty_table(tmp_path: Path) -> None:
    table = InferenceLog(tmp_path / "nothing").read()
    assert table.num_rows == 0
    assert table.schema == INFERENCE_LOG_SCHEMA


def test_a_line_cut_short_by_a_crash_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = InferenceLog(tmp_path)
    path = log.append(_record(datetime(2025, 1, 5, tzinfo=UTC)))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"request_id": "cut", "timestamp_')
    assert log.read().num_rows == 1
    assert "incomplete inference log line" in caplog.text


def test_concurrent_appends_keep_every_line_whole(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    when = datetime(2025, 6, 1, 12, tzinfo=UTC)

    def write(n: int) -> None:
        for _ in range(50):
            log.append(_record(when, request_metadata={"writer": str(n)}))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = log.read()
    assert table.num_rows == 400
    assert len(set(table.column("request_id").to_pylist())) == 400


def test_from_env_names_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(INFERENCE_LOG_DIR_ENV, raising=False)
    assert InferenceLog.from_env() is None
    monkeypatch.setenv(INFERENCE_LOG_DIR_ENV, str(tmp_path / "logs"))
    log = InferenceLog.from_env()
    assert log is not None and log.directory == (tmp_path / "logs").resolve()
