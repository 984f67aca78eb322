#!/usr/bin/env bash
# The runtime matrix: builds the real data (ingestion + collaborative model, no embedding) in
# one venv per runtime and leaves a JSON summary per runtime for tests/test_runtimes.py, which
# holds each equal to the default environment's build. Sourced by test.sh after _venv.sh.
#
# Each venv lives in .venv-matrix/<name> and is re-installed only when pyproject.toml or the
# runtime's spec changes (like _venv.sh). MOVIE_RAG_MATRIX picks the runtimes (names below,
# space-separated; "none" skips the matrix).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# name | python | pyspark requirement | extra | SPARK_REMOTE ("" = classic local session)
_matrix_spec() {
  case "$1" in
    py312-spark35) echo "3.12|pyspark>=3.5,<3.6|spark|" ;;
    py311-connect40) echo "3.11|pyspark>=4.0,<4.1|connect|local[2]" ;;
    py312-connect43) echo "3.12|pyspark>=4.3,<4.4|connect|local[2]" ;;
    py311-spark40) echo "3.11|pyspark>=4.0,<4.1|spark|" ;;
    *) echo "error: unknown runtime '$1' in MOVIE_RAG_MATRIX" >&2; return 1 ;;
  esac
}

_matrix_python() {
  local version=$1 candidate
  for candidate in "python$version" "$(pyenv root 2>/dev/null)/versions/$version"*/bin/"python$version"; do
    if [ -n "$candidate" ] && "$candidate" -c "" >/dev/null 2>&1; then
      command -v "$candidate" 2>/dev/null || echo "$candidate"
      return 0
    fi
  done
  echo "error: Python $version not found (the runtime matrix needs it; MOVIE_RAG_MATRIX=none skips)" >&2
  return 1
}

MOVIE_RAG_MATRIX=${MOVIE_RAG_MATRIX:-py312-spark35 py311-connect40}
export MOVIE_RAG_RUNTIME_RESULTS="$PWD/.venv-matrix/results"
rm -rf "$MOVIE_RAG_RUNTIME_RESULTS"
mkdir -p "$MOVIE_RAG_RUNTIME_RESULTS"
if [ "$MOVIE_RAG_MATRIX" != "none" ]; then
  data=${MOVIE_RAG_SHARED_DATA:-$PWD/../shared/data}
  for name in $MOVIE_RAG_MATRIX; do
    IFS='|' read -r pyver requirement extra remote <<<"$(_matrix_spec "$name")"
    venv=.venv-matrix/$name
    stamp=$venv/.installed-$( (cat pyproject.toml; echo "$pyver $requirement $extra") | sha256sum | cut -c1-16)
    if [ ! -f "$stamp" ]; then
      echo "runtime matrix: installing $name (Python $pyver, $requirement, [$extra])"
      rm -rf "$venv"
      "$(_matrix_python "$pyver")" -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --upgrade pip
      "$venv/bin/python" -m pip install --quiet -e ".[$extra]" "$requirement"
      touch "$stamp"
    fi
    [ -f "$data/ml-latest-small/movies.csv" ] || { echo "runtime matrix: no real data at $data" >&2; continue; }
    echo "runtime matrix: building the real data on $name"
    args=(--movielens "$data/ml-latest-small" --genome "$data/ml-genome"
      --imdb "$data/imdb/movies_metadata.head5000.csv" --imdb "$data/imdb/tmdb_5000_movies.csv"
      --imdb "$data/imdb/imdb_top_1000.csv" --imdb "$data/imdb/itemsapi_imdb.json"
      --out "$MOVIE_RAG_RUNTIME_RESULTS/$name.json")
    # A failed build leaves its error in the JSON: the test reports it.
    if [ -n "$remote" ]; then
      SPARK_REMOTE=$remote "$venv/bin/python" scripts/runtime_build.py "${args[@]}" 2>"$venv/build.log" || true
    else
      "$venv/bin/python" scripts/runtime_build.py "${args[@]}" 2>"$venv/build.log" || true
    fi
  done
fi
export MOVIE_RAG_MATRIX
