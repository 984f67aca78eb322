"""The chain as a LangChain Runnable, and its one composition root, on a small real catalogue.

No Spark: the index of the index tests' real-films table is built in-process with the real
embedder, and the collaborative model is fitted in memory on hand-made ratings.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables import RunnableLambda

from movie_rag.chain.assembly import assemble_chain
from movie_rag.chain.recommender import STEPS, RecommenderChain
from movie_rag.chain.types import (
    RecommendationRequest,
    RecommendationResponse,
    RecommendationResponseChunk,
)
from movie_rag.errors import DataValidationError
from movie_rag.settings import MovieRagSettings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "index"))

from sample_movies import movies_table

# Building the small index loads the real embedder (~40 s on a loaded 2-core machine).
pytestmark = pytest.mark.slow

SEED = 1  # Toy Story
FANS_ALSO_LIKED = 2  # Jumanji: liked by every Toy Story fan in the ratings below


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from movie_rag.index import LocalEmbeddings, LocalVectorIndex
    from movie_rag.workdir import Workdir

    root = tmp_path_factory.mktemp("runnable") / "workdir"
    built = Workdir(root)
    LocalVectorIndex(built.index, LocalEmbeddings()).build(movies_table())
    table_dir = built.tables / "movies_info"
    table_dir.mkdir(parents=True)
    pq.write_table(movies_table(), table_dir / "part-0.parquet")
    return root


@pytest.fixture(scope="module")
def settings(workdir: Path) -> MovieRagSettings:
    return MovieRagSettings(workdir=workdir, collab_enabled=False)


@pytest.fixture(scope="module")
def chain(settings: MovieRagSettings) -> RecommenderChain:
    return RecommenderChain.from_settings(settings)


class _Recorder(BaseCallbackHandler):
    """Every chain run a callback sees: name, tags and parent."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, list[str], Any]] = []
        self.ended: list[str] = []

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.runs.append((kwargs.get("name") or "", kwargs.get("tags") or [], kwargs["run_id"]))

    def on_chain_end(self, outputs: Any, **kwargs: Any) -> None:
        self.ended.append(str(kwargs["run_id"]))


def test_callbacks_in_config_see_every_step_with_the_callers_tags(chain) -> None:
    recorder = _Recorder()
    config = {"callbacks": [recorder], "tags": ["experiment-7"]}
    response = chain.invoke("I liked Toy Story, anything similar?", config)
    names = [name for name, _, _ in recorder.runs]
    assert names[0] == "RecommenderChain"
    assert set(STEPS) <= set(names)
    assert names.index("parse") < names.index("rank") < names.index("generate")
    assert names.index("generate") < names.index("ground")
    assert all("experiment-7" in tags for _, tags, _ in recorder.runs)
    assert len(recorder.ended) == len(recorder.runs)  # every step finished
    assert response.recommendations


def test_stream_yields_chunks_that_add_up_to_invoke(chain) -> None:
    question = {"query": "a heist thriller", "k": 3}
    chunks = list(chain.stream(question))
    assert all(isinstance(chunk, RecommendationResponseChunk) for chunk in chunks)
    assert len(chunks) == 4  # three recommendations, then the answer
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.to_response() == chain.invoke(question)


def test_stream_progress_keeps_the_step_events(chain) -> None:
    events = list(chain.stream_progress({"query": "a heist thriller", "k": 2}))
    names = [event["event"] for event in events]
    assert names == ["parsed", "recommendation", "recommendation", "answer", "done"]
    assert isinstance(events[-1]["data"], RecommendationResponse)


def test_astream_yields_chunks_and_astream_events_shows_the_steps(chain) -> None:
    async def run() -> tuple[list[Any], list[str]]:
        chunks = [chunk async for chunk in chain.astream("a space adventure")]
        events = [
            f"{event['event']}:{event['name']}"
            async for event in chain.astream_events("a space adventure", version="v2")
        ]
        return chunks, events

    chunks, events = asyncio.run(run())
    assert len(chunks) > 1
    assert all(isinstance(chunk, RecommendationResponseChunk) for chunk in chunks)
    assert {f"on_chain_end:{step}" for step in STEPS} <= set(events)
    assert "on_chain_stream:RecommenderChain" in events


def test_the_chain_composes_with_pipes_and_declares_its_schemas(chain) -> None:
    pipeline = (
        RunnableLambda(lambda question: {"query": question, "k": 2})
        | chain
        | (lambda response: [r.title for r in response.recommendations])
    )
    titles = pipeline.invoke("a funny animated film")
    assert len(titles) == 2 and all(isinstance(t, str) for t in titles)
    assert list(pipeline.stream("a funny animated film")) == [titles]
    assert chain.get_input_schema() is RecommendationRequest
    assert chain.get_output_schema() is RecommendationResponse
    assert set(chain.get_input_schema().model_json_schema()["properties"]) == {
        "query", "history", "user_id", "filters", "k",
    }  # fmt: skip
    assert len(chain.batch(["a heist thriller", "a comedy"])) == 2


def test_a_request_model_and_its_plain_forms_answer_alike(chain) -> None:
    request = RecommendationRequest(query="a heist thriller", k=2, filters={"year_min": 1990})
    as_mapping = {"query": "a heist thriller", "k": "2", "filters": '{"year_min": 1990}'}
    assert chain.invoke(request) == chain.invoke(as_mapping)
    with pytest.raises(DataValidationError, match="k must be between 1 and 50"):
        chain.invoke({"query": "a comedy", "k": 99})
    with pytest.raises(DataValidationError, match="the question is empty"):
        chain.invoke("   ")


def test_package_face_exports_the_chain() -> None:
    import movie_rag.chain as face
    from movie_rag.chain import RecommendationRequest as Request
    from movie_rag.chain import RecommenderChain as Chain

    assert Chain is RecommenderChain and Request is RecommendationRequest
    for name in face.__all__:
        assert getattr(face, name) is not None, name


def _collaborative_model(catalogue_ids: list[int]) -> Any:
    """Every Toy Story fan also liked Jumanji: co-likes no text similarity explains."""
    from movie_rag.collab.item_knn import fit_item_knn
    from movie_rag.collab.model import FORMAT_VERSION, CollaborativeModel

    rows = [(user, movie) for user in range(1, 21) for movie in (SEED, FANS_ALSO_LIKED)]
    rows += [(100 + i, movie) for i, movie in enumerate(catalogue_ids)]
    ratings = pa.table(
        {
            "user_id": pa.array([u for u, _ in rows], pa.int32()),
            "movie_id": pa.array([m for _, m in rows], pa.int32()),
            "rating": pa.array([5.0] * len(rows), pa.float32()),
            "timestamp": pa.array([0] * len(rows), pa.int64()),
        }
    )
    return CollaborativeModel(
        neighbours=fit_item_knn(ratings, like_threshold=4.0),
        user_ids=np.array([], dtype=np.int64),
        user_factors=np.zeros((0, 2), dtype=np.float32),
        item_ids=np.array([], dtype=np.int64),
        item_factors=np.zeros((0, 2), dtype=np.float32),
        histories=ratings,
        manifest={
            "format_version": FORMAT_VERSION,
            "params": {"like_threshold": 4.0},
            "counts": {"ratings": len(rows)},
        },
    )


def _collab_scores(chain: RecommenderChain) -> dict[int, float]:
    understood = chain._parse("I liked Toy Story, anything similar?")
    ranked = chain._rank(understood)
    return {c.movie_id: c.scores.get("collab", 0.0) for c in ranked.candidates}


def test_the_evaluation_chain_ranks_with_the_collaborative_model_it_is_given(
    settings: MovieRagSettings,
) -> None:
    from movie_rag.evaluation.hybrid_systems import chain_for
    from movie_rag.evaluation.protocols import ProtocolParams
    from movie_rag.evaluation.splits import split_users
    from movie_rag.evaluation.systems import EvalContext

    catalogue = movies_table()
    model = _collaborative_model(catalogue.column("movie_id").to_pylist())
    ratings = model.histories
    context = EvalContext(
        settings=settings.model_copy(update={"collab_enabled": True}),
        catalogue=catalogue,
        train_ratings=ratings,
        split=split_users(ratings, validation_fraction=0.0, test_fraction=0.0),
        params=ProtocolParams(k=3),
        ratings=ratings,
    )
    chain, histories = chain_for(context, collab=model)
    assert chain.collab is model and chain.ranker.collab is model
    assert histories.collab is model
    scores = _collab_scores(chain)
    assert scores.get(FANS_ALSO_LIKED, 0.0) > 0.5
    # Without it the same build ranks on content alone.
    content, _ = chain_for(context, collab=None)
    assert not any(_collab_scores(content).values())


def test_assembly_hooks_are_parameters(settings: MovieRagSettings) -> None:
    seen: list[str] = []

    class Counting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.model_name, self.dimension = inner.model_name, inner.dimension

        def encode(self, texts: Any) -> Any:
            return self.inner.encode(texts)

        def encode_query(self, text: str) -> Any:
            seen.append(text)
            return self.inner.encode_query(text)

    chain = assemble_chain(settings, query_encoder=Counting, collab=None, feedback=None)
    chain.invoke("a heist thriller")
    assert seen and all("heist" in text for text in seen)  # the wrapper encoded the query
    assert chain.collab is None and chain.feedback is None


def test_the_llm_evaluation_chain_keeps_the_collaborative_model_and_feedback(
    settings: MovieRagSettings,
) -> None:
    pytest.importorskip("langchain_openai")
    from pydantic import SecretStr

    from movie_rag.collab.model import CollaborativeModel, collab_location
    from movie_rag.evaluation.protocols import ProtocolParams
    from movie_rag.evaluation.splits import split_users
    from movie_rag.evaluation.systems import EvalContext, build_llm_chain

    catalogue = movies_table()
    model = _collaborative_model(catalogue.column("movie_id").to_pylist())
    llm_settings = settings.model_copy(
        update={
            "collab_enabled": True,
            "llm_provider": "openai",
            # Never called here: building the chain opens no connection.
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_api_key": SecretStr("not-a-real-key"),
        }
    )
    model.save(collab_location(llm_settings))
    ratings = model.histories
    context = EvalContext(
        settings=llm_settings,
        catalogue=catalogue,
        train_ratings=ratings,
        split=split_users(ratings, validation_fraction=0.0, test_fraction=0.0),
        params=ProtocolParams(k=3),
        ratings=ratings,
    )
    chain = build_llm_chain(context).chain  # type: ignore[attr-defined]
    assert isinstance(chain.collab, CollaborativeModel)
    assert chain.ranker.collab is chain.collab
    assert chain.feedback is not None
    assert type(chain.generator).__name__ == "_RecordingGenerator"
