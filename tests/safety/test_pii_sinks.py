"""Personal data of every class, planted in questions, user ids, filters and request ids,
reaches none of the places movie_rag writes to.

The sinks: the workdir feedback log, the Unity Catalog feedback table (the SQL emulator, through
the real databricks-sdk), MLflow traces (a sqlite tracking store), the inference log, the UI's
log lines and the CLI's stderr at default and ``--verbose`` verbosity. Each is read back as
text and searched for every planted value and for telling pieces of it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient

from emulators.sql_statements import SqlStatementsEmulator
from movie_rag.feedback import LocalFeedbackStore
from movie_rag.feedback.databricks import UnityCatalogFeedbackStore
from movie_rag.privacy import redact_pii, redact_user_id
from movie_rag.ui.app import _Handlers
from movie_rag.ui.backends import Backend, LocalBackend
from movie_rag.ui.feedback import FeedbackRecorder

# One value per class, and pieces of each that must not survive either (a partial redaction
# that leaves "7946 0958" behind is still a phone number).
PII: dict[str, tuple[str, ...]] = {
    "email": ("jane.doe@example.org", "jane.doe"),
    "phone": ("+44 20 7946 0958", "7946 0958"),
    "card": ("4111 1111 1111 1111", "4111 1111"),
    "iban": ("GB82 WEST 1234 5698 7654 32", "WEST 1234"),
    "ssn": ("123-45-6789", "45-6789"),
    "ip": ("192.168.1.10", "192.168.1"),
    "address": ("221B Baker Street, London NW1 6XE", "Baker Street"),
}
QUESTION = (
    "a tense heist thriller please; mail {email}, call {phone}, card {card}, iban {iban}, "
    "ssn {ssn}, from {ip}, I live at {address}"
).format(**{name: values[0] for name, values in PII.items()})
USER = PII["email"][0]
TABLE = "movie_rag.silver.feedback"


def leaks(text: str) -> dict[str, list[str]]:
    """The planted values (or pieces) found in ``text``, by class."""
    found = {name: [v for v in values if v in text] for name, values in PII.items()}
    return {name: values for name, values in found.items() if values}


def test_the_planted_question_holds_every_class_and_redaction_removes_all() -> None:
    assert set(leaks(QUESTION)) == set(PII)
    assert leaks(redact_pii(QUESTION)) == {}
    for placeholder in ("[email]", "[phone]", "[card]", "[iban]", "[ssn]", "[ip]", "[address]"):
        assert placeholder in redact_pii(QUESTION)
    assert "heist thriller" in redact_pii(QUESTION)


@pytest.fixture
def sql() -> Iterator[SqlStatementsEmulator]:
    with SqlStatementsEmulator(schemas=["movie_rag.silver"]) as emulator:
        yield emulator


def test_ui_votes_store_no_pii_in_the_feedback_log_or_the_uc_table(
    safety_chain, tmp_path: Path, sql: SqlStatementsEmulator
) -> None:
    local = LocalFeedbackStore(tmp_path)
    client = WorkspaceClient(host=sql.url, token=sql.token, auth_type="pat")
    uc = UnityCatalogFeedbackStore(client, sql.warehouse_id, TABLE, poll_interval=0.01)
    handlers = _Handlers(LocalBackend(safety_chain), FeedbackRecorder([local, uc]), k=3)
    *_, (_, turns, _) = handlers.respond(QUESTION, [], USER, None, None, None, None)
    assert turns[0]["recommendations"], "the question was answered with movies"
    # Message 0 is the question, 1 the answer (with its cards); then the first card's thumb.
    assert handlers.vote(turns, USER, 1, True).startswith("Thanks!")
    card_vote = json.dumps({"turn": 0, "card": 0, "vote": -1})
    assert handlers.vote_card(card_vote, turns, USER)[1].startswith("Thanks!")

    log_text = local.path.read_text(encoding="utf-8")
    assert len(log_text.splitlines()) == 2
    assert leaks(log_text) == {}
    rows = sql.rows(TABLE)
    assert len(rows) == 2
    assert leaks(json.dumps(rows, default=str)) == {}
    # The redacted question is still kept, and the votes still count for the same person.
    assert "heist thriller" in rows[0]["query"] and "[email]" in rows[0]["query"]
    assert rows[0]["user_id"] == redact_user_id(USER) != USER
    movie = turns[0]["recommendations"][0]["movie_id"]
    assert local.movie_votes(USER) == {movie: -1}
    assert safety_chain.profile(USER) is not None


class _FailingBackend(Backend):
    label = "failing"

    def answer(
        self,
        query: str,
        *,
        history: Sequence[Mapping[str, Any]] = (),
        filters: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        k: int | None = None,
    ) -> Iterator[Any]:
        raise RuntimeError(f"the backend choked on {query!r} for {user_id}")
        yield  # pragma: no cover


def test_ui_log_lines_keep_no_pii_when_the_backend_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handlers = _Handlers(_FailingBackend(), None, k=3)
    with caplog.at_level(logging.DEBUG, logger="movie_rag"):
        *_, (_, turns, _) = handlers.respond(QUESTION, [], USER, None, None, None, None)
    assert turns[-1]["error"]
    assert caplog.records, "the failure is logged"
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "the backend choked" in text and "Traceback" in text
    assert leaks(text) == {}


def test_traces_and_the_inference_log_keep_no_pii(
    safety_chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from movie_rag.chain.recommender import RecommenderChain
    from movie_rag.publish.inference_log import InferenceLog
    from movie_rag.publish.model import MovieRagModel, _TracedIndexManager

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("pii-traces")
    model = MovieRagModel()
    # As build_chain makes it with tracing on: a retriever span per search.
    traced = _TracedIndexManager(safety_chain.settings, index=safety_chain.index.index)
    model.chain = RecommenderChain(
        traced, safety_chain.catalogue, settings=safety_chain.settings,
        feedback=safety_chain.feedback,
    )  # fmt: skip
    model.tracing = True
    model.inference_log = InferenceLog(tmp_path / "inference")
    filters = json.dumps({"genres_any": ["Crime"], "year_min": 1980})
    rows = pd.DataFrame([{"query": QUESTION, "user_id": USER, "filters": filters, "k": 3}])
    params = {"format": "json", "client_request_id": f"req-{USER}-{PII['phone'][0]}"}
    (prediction,) = model.predict(None, rows, params)
    assert prediction["recommendations"]
    chat = {
        "messages": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "Try Heat.", "recommendations": [6]},
            {"role": "user", "content": f"more like that, reach me at {PII['email'][0]}"},
        ],
        "user_id": PII["phone"][0],
        "k": 2,
    }
    model.predict(None, pd.DataFrame([chat]), {"client_request_id": PII["ip"][0]})
    # A rejected request with personal data in a bad field: the error is redacted too.
    bad = pd.DataFrame([{"query": "heist", "filters": json.dumps({"owner": QUESTION})}])
    with pytest.raises(mlflow.exceptions.MlflowException) as refused:
        model.predict(None, bad, None)
    assert leaks(refused.value.message) == {}

    with model.inference_log._lock:
        logged = "".join(p.read_text(encoding="utf-8") for p in model.inference_log.files())
    assert len(logged.splitlines()) == 3
    assert leaks(logged) == {}
    table = model.inference_log.read()
    assert "[email]" in table.column("client_request_id").to_pylist()[0]

    flush = getattr(mlflow, "flush_trace_async_logging", None)
    if flush is not None:
        flush()
    traces = mlflow.search_traces(return_type="list")
    assert len(traces) >= 2
    spans = [span for trace in traces for span in trace.data.spans]
    assert {"recommend", "retrieve"} <= {span.name for span in spans}
    text = json.dumps([trace.to_dict() for trace in traces], default=str)
    assert "heist thriller" in text, "the traces hold the (redacted) question"
    assert leaks(text) == {}


@pytest.mark.parametrize("verbosity", [[], ["--verbose"]], ids=["default", "verbose"])
def test_cli_stderr_keeps_no_pii_at_any_verbosity(
    safety_workdir: Path, tmp_path: Path, verbosity: list[str]
) -> None:
    # A question with PII answered (stderr carries the --verbose log lines), a queries file
    # with PII in its lines, and a missing queries file whose name is personal data (the
    # error names the file).
    queries = tmp_path / "queries.txt"
    queries.write_text(QUESTION + "\n" + QUESTION.upper() + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for args, fails in (
        (["recommend", QUESTION, "--user-id", USER, "--json"], False),
        (["recommend", "--queries", str(queries), "--user-id", USER], False),
        (["recommend", "--queries", str(tmp_path / f"{PII['email'][0]}.txt")], True),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "movie_rag.cli", *args, "--workdir", str(safety_workdir),
             *verbosity],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert (result.returncode != 0) == fails, (args, result.stderr)
        if fails:
            assert "error" in result.stderr and "[email]" in result.stderr, result.stderr
        elif "--json" in args:
            # The JSON answer carries the question, redacted.
            assert "[email]" in result.stdout and "[address]" in result.stdout
        assert "Traceback" not in result.stderr
        assert leaks(result.stderr) == {}, (args, result.stderr)
        assert leaks(result.stdout) == {}, (args, result.stdout)
