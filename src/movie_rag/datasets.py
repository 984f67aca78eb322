"""Datasets: MovieLens releases downloaded with checksums, and the bundled sample catalogue.

:func:`fetch_movielens` downloads a MovieLens release once into a local cache and checks the
sha256 of every extracted file each time it is used. :func:`sample_catalogue` locates the
small catalogue shipped inside the package, which needs no download at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import importlib.resources
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from filelock import FileLock

from movie_rag.errors import DownloadError, InputFileError

__all__ = [
    "DATA_HOME_ENV",
    "EXAMPLE_QUESTIONS",
    "MOVIELENS_BASE_URL",
    "MOVIELENS_VARIANTS",
    "SampleCatalogue",
    "fetch_movielens",
    "get_data_home",
    "sample_catalogue",
    "sha256_file",
]

logger = logging.getLogger("movie_rag")

#: Where GroupLens publishes the MovieLens zips.
MOVIELENS_BASE_URL = "https://files.grouplens.org/datasets/movielens"

#: The releases :func:`fetch_movielens` knows. ``ml-100k`` is the older tab-separated format
#: (``u.data``, ``u.item``), not the CSV layout of the others.
MOVIELENS_VARIANTS = ("ml-latest-small", "ml-latest", "ml-100k", "ml-20m", "ml-25m", "ml-32m")

#: Environment variable that overrides the default cache directory.
DATA_HOME_ENV = "MOVIE_RAG_DATA_HOME"

#: The original UI's four questions: the chat UI's examples and what ``movie-rag demo`` asks.
EXAMPLE_QUESTIONS = (
    "Suggest me the best horror movie, that can scare anyone.",
    "I liked 'Jurassic Park'. Can you suggest some movies similar?",
    "I am feeling bored, suggest me some movies to improve my mood.",
    "My friends are coming over, suggest me some movies to chill with them.",
)

# Digests of releases that GroupLens no longer changes. ml-latest-small has been the
# 2018-09-26 build since then; other releases get their digests recorded on first download.
_KNOWN_SHA256: dict[str, dict[str, str]] = {
    "ml-latest-small": {
        "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    },
}

_CHUNK = 1024 * 1024
# Hand-unpacked releases are not trusted (nothing vouches for their files), but a zip fetched
# some other way goes through the same checks when read from a file: URL.
_OFFLINE_HINT = (
    "Without network access, fetch the zip some other way and pass "
    "base_url=Path(folder_holding_the_zip).as_uri()."
)


def get_data_home(data_home: str | Path | None = None) -> Path:
    """The directory downloaded datasets are cached in.

    Args:
        data_home: An explicit directory; wins over everything else.

    Returns:
        ``data_home`` if given, else ``$MOVIE_RAG_DATA_HOME``, else ``~/.cache/movie_rag``
        (the directory is not created here).
    """
    if data_home is not None:
        return Path(data_home).expanduser()
    env = os.environ.get(DATA_HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "movie_rag"


def sha256_file(path: str | Path) -> str:
    """The hex sha256 digest of a file, read in 1 MiB chunks.

    Args:
        path: The file.

    Returns:
        64 lowercase hex characters.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_movielens(
    variant: str = "ml-latest-small",
    data_home: str | Path | None = None,
    *,
    base_url: str = MOVIELENS_BASE_URL,
    force: bool = False,
    timeout: float = 60,
) -> Path:
    """Download a MovieLens release once, and verify it every time it is used.

    The zip ``{base_url}/{variant}.zip`` is streamed to a temporary file, extracted beside the
    cache and moved into place only when complete, so an interrupted download never leaves a
    half-written release behind. Each extracted file's sha256 is checked against the known
    digests of frozen releases (``ml-latest-small``); for other releases the digests are
    recorded in ``<data_home>/<variant>.sha256`` on first download and checked on every later
    call and on every re-download, so a changed or tampered file is always noticed.

    Args:
        variant: One of :data:`MOVIELENS_VARIANTS`.
        data_home: Cache directory; see :func:`get_data_home`.
        base_url: Where the zips are served: GroupLens, a mirror, or a ``file:`` URL of a
            local folder holding the zip.
        force: Download again even if a verified copy is cached.
        timeout: Seconds to wait for the server before giving up.

    Returns:
        The extracted release directory (``<data_home>/<variant>``, holding ``movies.csv`` and
        the other files of the release).

    Raises:
        ValueError: ``variant`` is not a known MovieLens release.
        DownloadError: The server could not be reached or answered with an error, the zip is
            broken or laid out unexpectedly, or a file's sha256 differs from the expected one.

    Example:
        >>> from movie_rag.datasets import fetch_movielens
        >>> release = fetch_movielens("ml-latest-small")  # doctest: +SKIP
        >>> sorted(p.name for p in release.iterdir())  # doctest: +SKIP
        ['README.txt', 'links.csv', 'movies.csv', 'ratings.csv', 'tags.csv']
    """
    if variant not in MOVIELENS_VARIANTS:
        raise ValueError(
            f"unknown MovieLens variant {variant!r}; choose one of {', '.join(MOVIELENS_VARIANTS)}"
        )
    home = get_data_home(data_home)
    home.mkdir(parents=True, exist_ok=True)
    url = f"{base_url.rstrip('/')}/{variant}.zip"
    target = home / variant
    checksums = home / f"{variant}.sha256"
    # Two processes fetching the same release must not extract over each other.
    with FileLock(str(home / f".{variant}.lock")):
        expected = _expected_digests(variant, checksums)
        if target.is_dir() and not force:
            if expected:
                _verify_cached(target, expected, url)
                logger.info("Using cached MovieLens %s at %s (sha256 verified)", variant, target)
                return target
            # A directory without digests was copied in by hand or interrupted before its
            # digests were written: it cannot be trusted, so it is replaced.
            logger.warning("%s has no recorded checksums; downloading %s again", target, url)
        _download_release(url, variant, home, target, expected, checksums, timeout)
    return target


def _expected_digests(variant: str, checksums: Path) -> dict[str, str]:
    """Known digests of a frozen release, merged over those recorded in the cache."""
    expected = _read_checksums(checksums) if checksums.exists() else {}
    expected.update(_KNOWN_SHA256.get(variant, {}))
    return expected


def _read_checksums(path: Path) -> dict[str, str]:
    """Parse a ``sha256sum``-style file (``<hex>  <relative path>`` per line)."""
    digests: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DownloadError(
                f"{path}, line {number}: not a '<sha256>  <file>' line. The checksum file is "
                f"damaged; delete it and call fetch_movielens(..., force=True) to download "
                f"the release again and record fresh checksums."
            )
        digests[name] = digest.lower()
    return digests


def _write_checksums(path: Path, digests: Mapping[str, str]) -> None:
    """Write digests atomically so a crash never leaves a truncated checksum file."""
    text = "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _digests_of(directory: Path) -> dict[str, str]:
    """sha256 of every file under a directory, keyed by its POSIX path relative to it."""
    return {
        path.relative_to(directory).as_posix(): sha256_file(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def _mismatches(directory: Path, expected: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """``(file, expected, actual)`` for every expected file whose digest differs."""
    wrong = []
    for name, digest in sorted(expected.items()):
        path = directory / name
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != digest:
            wrong.append((name, digest, actual))
    return wrong


def _describe(directory: Path, wrong: list[tuple[str, str, str]]) -> str:
    return "; ".join(
        f"{directory / name}: expected sha256 {digest}, got {actual}"
        for name, digest, actual in wrong
    )


def _verify_cached(target: Path, expected: Mapping[str, str], url: str) -> None:
    wrong = _mismatches(target, expected)
    if wrong:
        raise DownloadError(
            f"the cached MovieLens release at {target} does not match its checksums "
            f"({_describe(target, wrong)}). A file was changed or damaged after download; "
            f"call fetch_movielens(..., force=True) to download {url} again."
        )


def _download_release(
    url: str,
    variant: str,
    home: Path,
    target: Path,
    expected: Mapping[str, str],
    checksums: Path,
    timeout: float,
) -> None:
    """Download, extract and verify into temporary paths, then swap the release into place."""
    handle, zip_name = tempfile.mkstemp(dir=home, prefix=f".{variant}-", suffix=".zip.part")
    os.close(handle)
    zip_path = Path(zip_name)
    staging = Path(tempfile.mkdtemp(dir=home, prefix=f".{variant}-", suffix=".extract"))
    retired = home / f"{staging.name}.old"
    try:
        _download(url, zip_path, timeout)
        release = _extract(zip_path, staging, variant, url)
        wrong = _mismatches(release, expected)
        if wrong:
            raise DownloadError(_checksum_failure(url, variant, release, wrong, checksums))
        digests = _digests_of(release)
        if target.exists():
            target.rename(retired)
        try:
            release.rename(target)
        except OSError:
            # Put the previous copy back rather than leave no release at all.
            if retired.exists():
                retired.rename(target)
            raise
        # Digests are written last: a release without them is re-downloaded, never trusted.
        _write_checksums(checksums, digests)
        logger.info("MovieLens %s ready at %s (%d files verified)", variant, target, len(digests))
    finally:
        zip_path.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)


def _checksum_failure(
    url: str, variant: str, release: Path, wrong: list[tuple[str, str, str]], checksums: Path
) -> str:
    detail = "; ".join(
        f"{name}: expected sha256 {digest}, got {actual}" for name, digest, actual in wrong
    )
    if variant in _KNOWN_SHA256:
        fix = (
            "The download is damaged or the server does not serve the genuine release; "
            "nothing was installed. Try again, or check base_url."
        )
    else:
        fix = (
            f"The release changed since it was first downloaded (digests recorded in "
            f"{checksums}); nothing was installed. If the new release is intended, delete "
            f"{checksums} and call fetch_movielens(..., force=True) to accept it."
        )
    return f"{url} failed its checksum check ({detail}). {fix}"


def _download(url: str, destination: Path, timeout: float) -> None:
    """Stream ``url`` into ``destination``; every failure becomes a DownloadError."""
    logger.info("Downloading %s", url)
    request = urllib.request.Request(url, headers={"User-Agent": "movie_rag"})
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            destination.open("wb") as out,
        ):
            shutil.copyfileobj(response, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response body
        raise DownloadError(
            f"{url}: the server answered HTTP {exc.code} {exc.reason}. Check the variant "
            f"name and base_url. {_OFFLINE_HINT}"
        ) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"could not download {url}: {reason}. Check the network (or proxy settings) and "
            f"try again. {_OFFLINE_HINT}"
        ) from exc
    logger.info("Downloaded %s (%d bytes)", url, destination.stat().st_size)


def _extract(zip_path: Path, staging: Path, variant: str, url: str) -> Path:
    """Extract the release folder of a MovieLens zip safely; return its directory."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in members:
                parts = PurePosixPath(member.filename).parts
                # Refuse absolute paths and ".." so a hostile zip cannot write outside staging.
                if member.filename.startswith("/") or ".." in parts or len(parts) < 2:
                    raise DownloadError(
                        f"{url}: unexpected entry {member.filename!r} in the zip "
                        f"(expected files under {variant}/). Check base_url."
                    )
                if parts[0] != variant:
                    raise DownloadError(
                        f"{url}: the zip holds {parts[0]}/, not {variant}/. The server "
                        f"returned a different release; check base_url."
                    )
            for member in members:
                destination = staging.joinpath(*PurePosixPath(member.filename).parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(member) as source, destination.open("wb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise DownloadError(
            f"{url}: the download is not a readable zip ({exc}). Try again; if it persists, "
            f"check base_url."
        ) from exc
    release = staging / variant
    if not release.is_dir():
        raise DownloadError(f"{url}: the zip is empty (expected files under {variant}/).")
    return release


@dataclass(frozen=True)
class SampleCatalogue:
    """The small catalogue bundled with the package (no download needed).

    About a hundred well-known movies: genuine MovieLens facts (movies, links) with
    synthetic ratings and tags, and one record per movie in Bright Data's IMDb schema with
    descriptions written for this project. The sample's ``README.md`` has the details and
    licence notes.

    Attributes:
        movielens_dir: Directory holding ``movies.csv``, ``links.csv``, ``ratings.csv`` and
            ``tags.csv`` in the MovieLens format.
        imdb_paths: IMDB-like input files (the Bright Data JSON).
    """

    movielens_dir: Path
    imdb_paths: tuple[Path, ...]


def sample_catalogue() -> SampleCatalogue:
    """Locate the bundled sample catalogue.

    Returns:
        Paths into the installed package.

    Raises:
        InputFileError: The package is not installed as plain files (for example imported
            from a zip), so the sample has no path on disk.

    Example:
        >>> from movie_rag.datasets import sample_catalogue
        >>> sample = sample_catalogue()
        >>> (sample.movielens_dir / "movies.csv").is_file()
        True
        >>> [p.name for p in sample.imdb_paths]
        ['bright_data_sample.json']
    """
    root = importlib.resources.files("movie_rag") / "_resources" / "sample"
    if not isinstance(root, Path) or not root.is_dir():
        raise InputFileError(
            str(root),
            "the bundled sample is not available as files on disk",
            "movie_rag installed from a wheel or source checkout, not imported from a zip",
        )
    return SampleCatalogue(
        movielens_dir=root / "movielens",
        imdb_paths=tuple(sorted((root / "imdb").glob("*.json"))),
    )
