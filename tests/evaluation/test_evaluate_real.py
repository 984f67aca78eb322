"""The reduced protocol on the real data: no leakage, baselines side by side, measured floors.

Floors are set well under what the reduced protocol measures (docs/evaluation.md has the
full numbers), so they catch a broken system, not noise.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from movie_rag.evaluation.harness import run_protocol
from movie_rag.evaluation.protocols import PROTOCOLS, ProtocolParams, heldout_tags
from movie_rag.ingest.movielens import MovieLensLoader
from movie_rag.tables import read_local_table
from movie_rag.workdir import Workdir

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_the_build_sees_only_training_users_and_no_held_out_tag(evaluation, real_build) -> None:
    report, context = evaluation
    catalogue = context.catalogue
    # Rating aggregates were computed from the training users' ratings alone.
    counted = pc.sum(catalogue.column("ml_rating_count")).as_py()
    assert counted == context.train_ratings.num_rows
    assert context.train_ratings.num_rows < context.ratings.num_rows
    train_users = set(context.train_ratings.column("user_id").to_pylist())
    assert train_users == context.split.train_users
    # No held-out tag is on any movie of the evaluation build; they are in the main build.
    held = set(context.heldout_tags)
    assert len(held) == report.heldout_tags == 30
    seen = {t for tags in catalogue.column("user_tags").to_pylist() for t in tags or []}
    assert not held & seen
    settings, _ = real_build
    main = read_local_table(Workdir(settings.workdir).table("movies_info"))
    main_tags = {t for tags in main.column("user_tags").to_pylist() for t in tags or []}
    assert held <= main_tags
    # Documents do not depend on ratings or tags: every vector came from the cache.
    build = json.loads((Workdir(context.settings.workdir).reports / "build.json").read_text())
    assert build["index"]["embedded"] == 0


def test_queries_follow_the_fixed_parameters(evaluation) -> None:
    _, context = evaluation
    params = context.params
    tags = PROTOCOLS["tags"].queries(context)
    similar = PROTOCOLS["similar"].queries(context)
    assert len(tags) == 30 and len(similar) == 40
    assert all(len(q.relevant) >= params.tag_min_movies and not q.seed_movie_ids for q in tags)
    for query in similar:
        (seed,) = query.seed_movie_ids
        user = int(query.user_id or 0)
        assert user in context.split.test_users
        assert seed in query.exclude and seed not in query.relevant
        assert len(query.relevant) >= params.similar_min_truth
        assert context.rating_counts.get(seed, 0) >= params.seed_min_train_ratings
    # Deterministic: the same context gives the same queries.
    assert [q.query for q in PROTOCOLS["similar"].queries(context)] == [q.query for q in similar]


def test_chain_against_every_baseline(evaluation) -> None:
    report, _ = evaluation
    tags = report.protocol("tags")
    similar = report.protocol("similar")
    assert [r.system for r in tags.systems] == ["random", "popularity", "bm25", "item-knn", "chain"]
    assert not tags.result("item-knn").applicable  # needs a seed movie
    ndcg = {
        p.protocol: {r.system: r.metrics.get("ndcg", 0.0) for r in p.systems}
        for p in (tags, similar)
    }
    # Measured on the reduced protocol: tags chain 0.14, bm25 0.06, popularity 0.06, random
    # 0.004; similar item-knn 0.19, chain 0.08-0.19, random 0.006.
    assert ndcg["tags"]["chain"] > 0.08
    assert ndcg["tags"]["chain"] > ndcg["tags"]["bm25"]
    assert ndcg["tags"]["chain"] > ndcg["tags"]["popularity"]
    assert ndcg["similar"]["item-knn"] > 0.1
    for protocol in ("tags", "similar"):
        assert ndcg[protocol]["chain"] > 5 * ndcg[protocol]["random"]
        for result in report.protocol(protocol).systems:
            if result.applicable:
                assert result.metrics["grounding"] == 1.0
                assert 0.0 < result.metrics["coverage"] <= 1.0
    # No LLM is configured here: the judges are skipped, and say so.
    assert "judge" in report.skipped and not report.judge
    # Popularity bias is what it says: the popularity baseline has the least novelty.
    novelty = {r.system: r.metrics["novelty"] for r in similar.systems if r.applicable}
    assert min(novelty, key=novelty.__getitem__) == "popularity"


def test_report_files_and_mlflow_run(evaluation, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    from movie_rag.evaluation.report import EXPERIMENT, log_to_mlflow, write_report

    report, _ = evaluation
    files = write_report(report, tmp_path / "report")
    markdown = files["markdown"].read_text()
    for system in ("random", "popularity", "bm25", "item-knn", "chain"):
        assert f"| {system} |" in markdown
    assert files["ndcg"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<table>" in files["html"].read_text()
    run_id = log_to_mlflow(report, files, tmp_path / "wd")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'wd' / 'mlflow' / 'mlflow.db'}")
    run = client.get_run(run_id)
    expected = report.protocol("tags").result("chain").metrics["ndcg"]
    assert run.data.metrics["tags.chain.ndcg"] == pytest.approx(expected)
    assert run.data.params["k"] == "10" and run.data.params["seed"] == "42"
    assert client.get_experiment(run.info.experiment_id).name == EXPERIMENT
    artifacts = {a.path for a in client.list_artifacts(run_id, "report")}
    assert {"report/report.md", "report/report.html", "report/results.json"} <= artifacts


def test_cli_evaluate_json_reuses_the_build(evaluation, real_build) -> None:
    from movie_rag.cli import app

    settings, _ = real_build
    result = CliRunner().invoke(
        app,
        [
            "evaluate", "--workdir", str(settings.workdir), "--reduced", "--protocol", "similar",
            "--system", "random", "--system", "item-knn", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (similar,) = document["protocols"]
    assert [s["system"] for s in similar["systems"]] == ["random", "item-knn"]
    assert document["timings"]["build"] < 30  # the stamped evaluation build is reused
    assert Path(document["files"]["markdown"]).exists()
    assert document["mlflow_run_id"]


def test_unknown_names_are_refused(real_build) -> None:
    from movie_rag.errors import ConfigurationError
    from movie_rag.evaluation.runner import run_evaluation

    settings, _ = real_build
    with pytest.raises(ConfigurationError, match="unknown protocol"):
        run_evaluation(settings, protocols=["nope"])


def test_held_out_tags_are_seeded_and_bounded(shared_data: Path) -> None:
    data = MovieLensLoader().load(shared_data / "ml-latest-small")
    params = ProtocolParams()
    first = heldout_tags(data.tags, params)
    assert first == heldout_tags(data.tags, params)
    assert list(first) != list(heldout_tags(data.tags, ProtocolParams(seed=7)))
    assert "in netflix queue" not in first
    counts = Counter(len(movies) for movies in first.values())
    assert min(counts) >= params.tag_min_movies and max(counts) <= params.tag_max_movies


def test_grounding_under_an_adversarial_llm(evaluation) -> None:
    from adversarial_llm import adversarial_responder

    from emulators.openai_chat import DEFAULT_MODEL, OpenAIChatEmulator
    from movie_rag.evaluation.systems import build_llm_chain

    _, context = evaluation
    with OpenAIChatEmulator() as server:
        server.responder = adversarial_responder(seed=5)
        settings = context.settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": server.openai_base_url,
                "llm_api_key": SecretStr(server.api_key),
                "llm_endpoint": DEFAULT_MODEL,
                "llm_max_retries": 0,
            }
        )
        llm_context = dataclasses.replace(context, settings=settings)
        system = build_llm_chain(llm_context)
        result = run_protocol(PROTOCOLS["grounding"], llm_context, {"chain-llm": system})
        assert len(server.chat_requests) >= result.queries == context.params.grounding_queries
    metrics = result.result("chain-llm").metrics
    # The LLM named invented titles (2 of every 5), yet every returned title is real.
    assert metrics["llm_titles"] >= 4 * result.queries
    assert metrics["llm_grounding"] < 0.8
    assert metrics["grounding"] == 1.0


def test_llm_judges_score_the_chain_answers(evaluation) -> None:
    from emulators.openai_chat import DEFAULT_MODEL, OpenAIChatEmulator, RecordedRequest, Reply
    from movie_rag.evaluation.judge import judge_answers
    from movie_rag.evaluation.systems import build_chain

    _, context = evaluation
    chain = build_chain(context).chain  # type: ignore[attr-defined]
    queries = PROTOCOLS["tags"].queries(context)[:2]

    def judge(request: RecordedRequest) -> Reply:
        # The safety judge is the one asking about harmful content: it says "no" here.
        verdict = "no" if "harmful" in request.prompt_text.lower() else "yes"
        return Reply(
            content=json.dumps({"rationale": "Let's think step by step.", "result": verdict})
        )

    with OpenAIChatEmulator() as server:
        server.responder = judge
        settings = context.settings.model_copy(
            update={
                "llm_provider": "openai",
                "llm_base_url": server.openai_base_url,
                "llm_api_key": SecretStr(server.api_key),
                "llm_endpoint": DEFAULT_MODEL,
            }
        )
        scores = judge_answers(chain, queries, settings, k=5)
        prompts = [r.prompt_text for r in server.chat_requests]
    assert scores == {
        "relevance": 1.0, "groundedness": 1.0, "safety": 0.0, "judged": 2.0, "judge_errors": 0.0,
    }  # fmt: skip
    assert len(prompts) == 6
    assert all(queries[0].query in p for p in prompts[:2])  # the request reaches the judge
