"""What travels inside a logged model, and the fingerprint that says two models are equal.

The catalogue, the live index and collaborative versions, and the package's own code.

Only the live version of each versioned directory is copied (never older versions, locks,
staging directories or the embedding cache), and never a column the catalogue declares
internal.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from movie_rag.publish.errors import PublishError

__all__ = [
    "PACKAGE_DIR",
    "code_digest",
    "copy_live_collab",
    "copy_live_index",
    "copy_package",
    "fingerprint",
    "live_manifest",
    "public_catalogue",
]

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def copy_package(target: Path) -> Path:
    """Copy the movie_rag package to ``target`` (the model's code path); caches stay behind.

    The package travels with the model: it is not on an index the serving environment can
    install from.
    """
    shutil.copytree(PACKAGE_DIR, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def public_catalogue(table: pa.Table) -> pa.Table:
    """The catalogue without internal columns (what ships inside the model)."""
    from movie_rag.catalog.visibility import restrict

    # Internal columns (user_tags: what MovieLens users typed) never ship.
    return restrict(table, "retrieval")


def live_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live version directory of an index and its manifest."""
    from movie_rag.errors import InputFileError

    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise InputFileError(index_dir, "no built index here", "run `movie-rag build` first")
    version = index_dir / pointer.read_text(encoding="utf-8").strip()
    manifest_path = version / "manifest.json"
    if not manifest_path.is_file():
        raise InputFileError(version, "index version without manifest.json", "rebuild the index")
    return version, json.loads(manifest_path.read_text(encoding="utf-8"))


def copy_live_index(source: Path, target: Path) -> dict[str, Any]:
    """Copy only the live index version (not older versions, locks or the embedding cache).

    The ONNX export of its embedding model goes along, so serving encodes without torch.
    """
    from movie_rag.index.embeddings import ENCODER_DIR

    version, manifest = live_manifest(source)
    target.mkdir(parents=True)
    shutil.copytree(version, target / version.name)
    if (source / ENCODER_DIR).is_dir():
        shutil.copytree(
            source / ENCODER_DIR, target / ENCODER_DIR, ignore=shutil.ignore_patterns(".*")
        )
    (target / "CURRENT").write_text(version.name, encoding="utf-8")
    return manifest


def copy_live_collab(source: Path, target: Path) -> dict[str, Any]:
    """Copy only the live collaborative version (not the previous one, nor staging dirs)."""
    from movie_rag.collab.model import live_version

    version = live_version(source)
    if version is None:
        raise PublishError(f"{source} has no live collaborative model to publish")
    target.mkdir(parents=True)
    shutil.copytree(version, target / version.name)
    (target / "CURRENT").write_text(version.name + "\n", encoding="utf-8")
    return dict(json.loads((target / version.name / "manifest.json").read_text(encoding="utf-8")))


def fingerprint(
    config: Mapping[str, Any],
    table: pa.Table,
    manifest: Mapping[str, Any],
    collab_manifest: Mapping[str, Any] | None = None,
) -> str:
    """Digest of config, code, index identity, catalogue and collab manifest."""
    digest = hashlib.sha256()
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    # The package's code travels with the model, so a code change is a model change.
    digest.update(code_digest().encode())
    index_identity = {k: manifest.get(k) for k in ("model_name", "dimension", "table_fingerprint")}
    digest.update(json.dumps(index_identity, sort_keys=True, default=str).encode())
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.sort_by("movie_id") if "movie_id" in table.column_names else table)
    digest.update(sink.getvalue().to_pybytes())
    if collab_manifest is not None:
        # The whole manifest (ratings fingerprint, parameters, counts, creation time): a
        # retrained collaborative model is a new model.
        digest.update(b"collab")
        digest.update(json.dumps(collab_manifest, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def code_digest() -> str:
    """Digest of the package's files (its code travels with the model)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
