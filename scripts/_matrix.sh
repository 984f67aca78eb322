#!/usr/bin/env bash
# The runtime matrix: builds the real data (ingestion + collaborative model, no embedding) in
# one venv per runtime and leaves a JSON summary per runtime for tests/test_runtimes.py, which
# holds each equal to the default environment's build. Sourced by test.sh after _venv.sh.
#
# Each venv lives in .venv-matrix/<name> and is re-installed only when pyproject.toml or the
# runtime's spec changes (like _venv.sh). MOVIE_RAG_MATRIX picks the runtimes (names below,
# space-separated; "none" skips the matrix).
#
# Sourcing sets the variables the tests read and defines run_matrix; test.sh runs it in the
# background beside lint and type-check: the installs wait on pip and the builds on Spark,
# while mypy keeps one core busy.
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
export MOVIE_RAG_MATRIX

_matrix_install() {
  local name=$1 pyver requirement extra remote venv stamp
  IFS='|' read -r pyver requirement extra remote <<<"$(_matrix_spec "$name")"
  venv=.venv-matrix/$name
  stamp=$venv/.installed-$( (cat pyproject.toml; echo "$pyver $requirement $extra") | sha256sum | cut -c1-16)
  [ -f "$stamp" ] && return 0
  echo "runtime matrix: installing $name (Python $pyver, $requirement, [$extra])"
  rm -rf "$venv"
  "$(_matrix_python "$pyver")" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e ".[$extra]" "$requirement"
  touch "$stamp"
}

_matrix_build() {
  local name=$1 data=$2 pyver requirement extra remote venv
  IFS='|' read -r pyver requirement extra remote <<<"$(_matrix_spec "$name")"
  venv=.venv-matrix/$name
  echo "runtime matrix: building the real data on $name"
  local args=(--movielens "$data/ml-latest-small" --genome "$data/ml-genome"
    --imdb "$data/imdb/movies_metadata.head5000.csv" --imdb "$data/imdb/tmdb_5000_movies.csv"
    --imdb "$data/imdb/imdb_top_1000.csv" --imdb "$data/imdb/itemsapi_imdb.json"
    --out "$MOVIE_RAG_RUNTIME_RESULTS/$name.json")
  # A failed build leaves its error in the JSON: the test reports it. A hung one (a Connect
  # server that died mid-job leaves its client waiting) is stopped and leaves no summary,
  # which the test reports too; a build takes 1-3 minutes.
  if [ -n "$remote" ]; then
    SPARK_REMOTE=$remote timeout --kill-after=30 900 "$venv/bin/python" scripts/runtime_build.py "${args[@]}" 2>"$venv/build.log" || true
  else
    timeout --kill-after=30 900 "$venv/bin/python" scripts/runtime_build.py "${args[@]}" 2>"$venv/build.log" || true
  fi
}

# Installs every runtime's venv (side by side: pip mostly waits on the disk), then builds the
# real data on each in turn (each build keeps both cores busy).
run_matrix() {
  rm -rf "$MOVIE_RAG_RUNTIME_RESULTS"
  mkdir -p "$MOVIE_RAG_RUNTIME_RESULTS"
  [ "$MOVIE_RAG_MATRIX" = "none" ] && return 0
  local name data pids=() failed=0
  for name in $MOVIE_RAG_MATRIX; do
    _matrix_spec "$name" >/dev/null || return 1
    _matrix_install "$name" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" = 0 ] || { echo "runtime matrix: an install failed" >&2; return 1; }
  data=${MOVIE_RAG_SHARED_DATA:-$PWD/../shared/data}
  [ -f "$data/ml-latest-small/movies.csv" ] || { echo "runtime matrix: no real data at $data" >&2; return 0; }
  for name in $MOVIE_RAG_MATRIX; do
    _matrix_build "$name" "$data"
  done
}

# Stops a background run_matrix and everything it started (pip, the builds' Python and JVM).
stop_matrix() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do stop_matrix "$child"; done
  kill "$1" 2>/dev/null || true
}
