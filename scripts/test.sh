#!/usr/bin/env bash
# The test command: lint, type-check and run every test except the live-Databricks ones.
set -euo pipefail
# The real-data build on the other runtimes (pyspark 3.5, Spark Connect; see docs/runtimes.md),
# checked against this environment's by tests/test_runtimes.py: it runs beside the browser
# install, lint and type-check (its venvs install beside the main one), and pytest starts
# once it is done.
source "$(dirname "${BASH_SOURCE[0]}")/_matrix.sh"
run_matrix &
matrix_pid=$!
# A failed step stops the matrix too (its pip and build processes included).
trap 'stop_matrix "$matrix_pid"' EXIT
source scripts/_venv.sh
# Debian chromium for the browser tests (under CI a missing browser fails them).
source scripts/_chromium.sh
ruff check src tests benchmarks notebooks scripts
ruff format --check src tests benchmarks notebooks scripts
mypy
wait "$matrix_pid"
trap - EXIT
# Two workers: much of the suite waits on subprocesses, servers and the JVM, so two overlap
# well on two cores (tests/conftest.py keeps each file, and all files sharing an expensive
# fixture, on one worker).
pytest -m "not databricks_live" -n "${MOVIE_RAG_TEST_WORKERS:-2}" --dist loadscope --durations=15 "$@"
