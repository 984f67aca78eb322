"""The evaluation build: movies_info and its index built without what the protocols hold out.

The build a system is evaluated on must not see the ground truth. So the MovieLens release
is rewritten under ``<workdir>/evaluation/build/movielens/`` with

- ``ratings.csv``: the training users' ratings only (validation and test users removed, so
  rating aggregates and collaborative artefacts never see them);
- ``tags.csv``: the training users' tags minus every row of the held-out query tags;
- ``movies.csv`` and ``links.csv``: copied unchanged;

and built with :func:`~movie_rag.pipeline.build_catalogue` (same genome and IMDb inputs) into
``<workdir>/evaluation/build/``. Documents do not depend on ratings or user tags, so the
embedding cache copied from the main index serves every vector: nothing is re-embedded. A
stamp of the inputs, the protocol parameters and the collaborative training settings
(:func:`movie_rag.collab.model.training_params`) lets later runs reuse the build as it is;
changing any of them rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv

from movie_rag.errors import ConfigurationError
from movie_rag.evaluation.protocols import ProtocolParams, heldout_tags, without_tags
from movie_rag.evaluation.splits import split_users
from movie_rag.evaluation.systems import EvalContext
from movie_rag.ingest.movielens import MovieLensLoader
from movie_rag.settings import MovieRagSettings
from movie_rag.workdir import Workdir

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["EvaluationBuild", "EvaluationInputs"]

logger = logging.getLogger("movie_rag")

Progress = Callable[[str], None]
_STAMP = "evaluation_build.json"
# Parameters that change what the build sees; the others only change the queries.
_BUILD_PARAMS = (
    "seed",
    "validation_fraction",
    "test_fraction",
    "tag_min_movies",
    "tag_max_movies",
    "tag_queries",
)


@dataclass
class EvaluationInputs:
    """The raw inputs of a build: MovieLens release, genome directory, IMDb-like files."""

    movielens_dir: Path
    genome_dir: Path | None = None
    imdb_paths: list[Path] = field(default_factory=list)

    @classmethod
    def from_build_report(cls, workdir: str | Path) -> EvaluationInputs:
        """The inputs recorded in ``<workdir>/reports/build.json`` by ``movie-rag build``.

        Raises:
            ConfigurationError: The workdir has no build report, or it names no MovieLens
                movies file.
        """
        report_path = Workdir(workdir).reports / "build.json"
        if not report_path.exists():
            raise ConfigurationError(
                f"{report_path} not found: run `movie-rag build` on this workdir first, or "
                "pass --movielens (and --genome/--imdb) to `movie-rag evaluate`"
            )
        report = json.loads(report_path.read_text())
        paths = {i["source"]: _resolve(i["path"], report_path) for i in report.get("inputs", [])}
        if "movielens_movies" not in paths:
            raise ConfigurationError(f"{report_path}: no movielens_movies input recorded")
        missing = [str(p) for p in paths.values() if not p.exists()]
        if missing:
            raise ConfigurationError(
                f"{report_path} names inputs that are not there from here: {missing}; run from "
                "where the build ran, or pass --movielens (and --genome/--imdb)"
            )
        genome = paths.get("movielens_genome_scores")
        return cls(
            movielens_dir=paths["movielens_movies"].parent,
            genome_dir=genome.parent if genome is not None else None,
            imdb_paths=[p for s, p in paths.items() if s.startswith("imdb_")],
        )


class EvaluationBuild:
    """Builds (or reuses) the held-out build and returns the :class:`EvalContext`.

    Args:
        settings: Settings of the main workdir; the evaluation build goes to
            ``<workdir>/evaluation/build`` with the same settings otherwise.
        inputs: The raw inputs.
        params: The protocol parameters.
        spark: A Spark session to use (default: the active one, or a local one).
        progress: Called with the name of each stage.
    """

    def __init__(
        self,
        settings: MovieRagSettings,
        inputs: EvaluationInputs,
        params: ProtocolParams,
        *,
        spark: SparkSession | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.inputs = inputs
        self.params = params
        self.spark = spark
        self.say = progress or (lambda stage: None)
        self.directory = Workdir(settings.workdir).root / "evaluation" / "build"
        self.eval_settings = settings.model_copy(update={"workdir": self.directory})
        self.rebuilt = False

    def prepare(self) -> EvalContext:
        """Load the data, split it, build what the systems may see, and return the context."""
        from movie_rag.tables import read_local_table

        self.say("reading MovieLens")
        data = MovieLensLoader(self.settings).load(
            self.inputs.movielens_dir, self.inputs.genome_dir
        )
        p = self.params
        split = split_users(
            data.ratings,
            seed=p.seed,
            validation_fraction=p.validation_fraction,
            test_fraction=p.test_fraction,
        )
        held = heldout_tags(data.tags, p)
        train_ratings = split.train_ratings(data.ratings)
        stamp = self._stamp(data.files)
        workdir = Workdir(self.directory)
        stamp_path = workdir.reports / _STAMP
        current = stamp_path.read_text() if stamp_path.exists() else None
        if current != stamp or not (workdir.table("movies_info")).exists():
            train_tags = without_tags(split.train_ratings(data.tags), held)
            self._build(data.files, train_ratings, train_tags)
            workdir.reports.mkdir(parents=True, exist_ok=True)
            stamp_path.write_text(stamp)
            self.rebuilt = True
        else:
            self.say("reusing the evaluation build")
        catalogue = read_local_table(workdir.table(self.settings.movies_info_table))
        return EvalContext(
            settings=self.eval_settings,
            catalogue=catalogue,
            train_ratings=train_ratings,
            split=split,
            params=p,
            ratings=data.ratings,
            heldout_tags=held,
        )

    def _build(self, files: dict[str, Path], ratings: pa.Table, tags: pa.Table) -> None:
        from movie_rag.pipeline import build_catalogue

        if self.directory.exists():
            shutil.rmtree(self.directory)
        movielens = self.directory / "movielens"
        movielens.mkdir(parents=True)
        for role in ("movies", "links"):
            if role in files:
                shutil.copyfile(files[role], movielens / f"{role}.csv")
        _write_csv(ratings, ("userId", "movieId", "rating", "timestamp"), movielens / "ratings.csv")
        _write_csv(tags, ("userId", "movieId", "tag", "timestamp"), movielens / "tags.csv")
        self._seed_embedding_cache()
        genome = self.inputs.genome_dir
        if genome is None and "genome_scores" in files:
            genome = files["genome_scores"].parent
        self.say("building the held-out catalogue")
        build_catalogue(
            self.eval_settings,
            movielens,
            self.inputs.imdb_paths,
            genome_dir=genome,
            spark=self.spark,
            mode="overwrite",
            progress=self.say,
        )

    def _seed_embedding_cache(self) -> None:
        # Documents do not depend on ratings or tags: the main index's vectors all apply.
        source = Workdir(self.settings.workdir).index / "embedding_cache"
        if source.is_dir():
            shutil.copytree(source, Workdir(self.directory).index / "embedding_cache")
        else:
            logger.warning(
                "no embedding cache at %s: the evaluation build embeds everything", source
            )

    def _stamp(self, files: dict[str, Path]) -> str:
        from movie_rag.collab.model import training_params

        described = {
            "params": {name: getattr(self.params, name) for name in _BUILD_PARAMS},
            # The build trains the collaborative model: its settings decide the neighbours
            # and ALS factors a reused build would otherwise keep from an older run.
            "collab": {
                "enabled": self.settings.collab_enabled,
                **training_params(self.settings),
            },
            "files": {role: _describe(path) for role, path in sorted(files.items())},
            "imdb": [_describe(p) for p in self.inputs.imdb_paths],
        }
        return json.dumps(described, indent=2, sort_keys=True) + "\n"


def _write_csv(table: pa.Table, names: Sequence[str], path: Path) -> None:
    source = ["user_id", "movie_id", "rating" if names[2] == "rating" else "tag", "timestamp"]
    out = table.select(source).rename_columns(list(names))
    pacsv.write_csv(out, path)


def _describe(path: Path) -> dict[str, object]:
    stat = Path(path).stat()
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return {"name": Path(path).name, "bytes": stat.st_size, "sha256": digest.hexdigest()}


def _resolve(path: str, report_path: Path) -> Path:
    candidate = Path(path)
    if candidate.is_absolute() or candidate.exists():
        return candidate.resolve()
    # Relative paths in the report are relative to where the build ran; try the workdir's
    # parent too, for a workdir moved with its data beside it.
    beside = (report_path.parents[2] / candidate).resolve()
    return beside if beside.exists() else candidate.resolve()
