"""The served model ranks and personalises with the same collaborative model as the chain."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from publish_helpers import publisher_settings

from movie_rag.publish import ModelPublisher, RegisteredVersion
from movie_rag.publish.publisher import FINGERPRINT_TAG

pytestmark = [pytest.mark.spark, pytest.mark.slow]

LIKE_X = "I liked 'Jurassic Park'. Anything similar?"


@pytest.fixture(scope="module")
def served(publisher: ModelPublisher, champion: RegisteredVersion) -> Iterator[Any]:
    """The champion loaded in this process with ``mlflow.pyfunc.load_model``."""
    import mlflow

    with publisher.tracking():
        yield mlflow.pyfunc.load_model(champion.model_uri)


def _ids(model: Any, **row: Any) -> list[int]:
    import pandas as pd

    (response,) = model.predict(pd.DataFrame([row]), params={"format": "json"})
    return [r["movie_id"] for r in response["recommendations"]]


def test_the_sample_build_trains_a_collaborative_model_that_travels_with_the_model(
    publisher: ModelPublisher, champion: RegisteredVersion, tmp_path: Path
) -> None:
    import mlflow

    from movie_rag.collab.model import CollaborativeModel, current_manifest

    live = current_manifest(publisher.workdir.collab)
    assert live is not None, "the sample build should train a collaborative model"
    with publisher.tracking():
        path = Path(mlflow.artifacts.download_artifacts(champion.model_uri, dst_path=str(tmp_path)))
    shipped = path / "artifacts" / "collab"
    name = (shipped / "CURRENT").read_text().strip()
    # Only the live version: no previous version, no staging directory.
    assert sorted(p.name for p in shipped.iterdir()) == ["CURRENT", name]
    assert name == (publisher.workdir.collab / "CURRENT").read_text().strip()
    assert CollaborativeModel.load(shipped).manifest == live
    card = (path / "artifacts" / "MODEL_CARD.md").read_text()
    assert "collaborative model" in card


def test_served_like_x_answers_match_the_chain_on_the_workdir(
    publisher: ModelPublisher, served: Any
) -> None:
    from movie_rag.chain.recommender import RecommenderChain

    chain = RecommenderChain.from_settings(publisher.settings)
    assert chain.collab is not None
    expected = [r.movie_id for r in chain.invoke({"query": LIKE_X, "k": 5}).recommendations]
    assert _ids(served, query=LIKE_X, k=5) == expected
    # The comparison means something: content alone answers differently on the sample.
    content = RecommenderChain(chain.index, chain.catalogue, settings=chain.settings)
    assert [r.movie_id for r in content.invoke({"query": LIKE_X, "k": 5}).recommendations] != (
        expected
    )


def test_a_movielens_user_id_excludes_what_that_user_rated(
    publisher: ModelPublisher, served: Any
) -> None:
    from movie_rag.collab.model import CollaborativeModel

    collab = CollaborativeModel.open(publisher.settings)
    assert collab is not None
    rated = collab.history(2)
    anonymous = _ids(served, query=LIKE_X, k=5)
    assert set(anonymous) & set(rated), "user 2 should have rated some of the usual answers"
    personal = _ids(served, query=LIKE_X, k=5, user_id="2")
    assert len(personal) == 5
    assert not set(personal) & set(rated)


def test_republishing_is_a_no_op_until_the_collaborative_model_is_retrained(
    publisher: ModelPublisher, tmp_path: Path
) -> None:
    import mlflow

    from movie_rag.collab.model import CollaborativeModel

    # A copy of the sample workdir with its own registry: the session's champion stays put.
    source = publisher.workdir.root
    workdir = tmp_path / "workdir"
    shutil.copytree(source, workdir, ignore=shutil.ignore_patterns("mlflow", "logs", "feedback"))
    copy = ModelPublisher(publisher_settings(workdir))
    first = copy.publish()
    assert copy.publish().version == first.version
    assert copy.latest().version == first.version  # type: ignore[union-attr]

    # A retrain writes a new live version beside the old one and swaps CURRENT.
    retrained = CollaborativeModel.load(workdir / "collab")
    retrained.manifest = {**retrained.manifest, "created_at": datetime.now(UTC).isoformat()}
    version_dir = retrained.save(workdir / "collab")
    assert copy.fingerprint() != first.tags[FINGERPRINT_TAG]
    second = copy.publish()
    assert int(second.version) == int(first.version) + 1
    assert "champion" in second.aliases
    with copy.tracking():
        path = Path(mlflow.artifacts.download_artifacts(second.model_uri, dst_path=str(tmp_path)))
    assert (path / "artifacts" / "collab" / "CURRENT").read_text().strip() == version_dir.name
    assert copy.publish().version == second.version


def test_without_a_collaborative_model_the_served_chain_ranks_on_content(
    publisher: ModelPublisher, tmp_path: Path
) -> None:
    import mlflow

    from movie_rag.chain.recommender import RecommenderChain

    off = ModelPublisher(publisher_settings(publisher.workdir.root, collab_enabled=False))
    assert off.collab_source() is None
    logged = off.log(run_name="content-only")
    with off.tracking():
        path = Path(mlflow.artifacts.download_artifacts(logged.model_uri, dst_path=str(tmp_path)))
        model = mlflow.pyfunc.load_model(str(path))
    assert not (path / "artifacts" / "collab").exists()
    chain = RecommenderChain.from_settings(off.settings)
    assert chain.collab is None
    expected = [r.movie_id for r in chain.invoke({"query": LIKE_X, "k": 5}).recommendations]
    assert _ids(model, query=LIKE_X, k=5) == expected
    config = json.loads(json.dumps(off.model_config()))
    assert config["settings"]["collab_enabled"] is False


def test_ui_thumbs_count_only_when_the_server_configures_a_workdir(
    publisher: ModelPublisher,
    champion: RegisteredVersion,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow
    from mlflow.models import Model

    from movie_rag.feedback.events import FeedbackEvent
    from movie_rag.feedback.local import LocalFeedbackStore
    from movie_rag.publish.model import build_chain

    with publisher.tracking():
        path = Path(mlflow.artifacts.download_artifacts(champion.model_uri, dst_path=str(tmp_path)))
    config = Model.load(str(path / "MLmodel")).flavors["python_function"]["config"]
    artifacts = {
        name: str(path / "artifacts" / name) for name in ("movies_info", "index", "collab")
    }
    monkeypatch.delenv("MOVIE_RAG_WORKDIR", raising=False)
    assert build_chain(config, artifacts).feedback is None

    server_workdir = tmp_path / "server"
    monkeypatch.setenv("MOVIE_RAG_WORKDIR", str(server_workdir))
    chain = build_chain(config, artifacts)
    assert chain.collab is not None and chain.feedback is not None
    first = chain.invoke({"query": LIKE_X, "k": 5, "user_id": "ui-user"}).recommendations[0]
    LocalFeedbackStore(server_workdir).record(
        FeedbackEvent(
            user_id="ui-user", query=LIKE_X, vote=-1, target="movie", movie_id=first.movie_id
        )
    )
    again = chain.invoke({"query": LIKE_X, "k": 5, "user_id": "ui-user"}).recommendations
    assert first.movie_id not in [r.movie_id for r in again]
