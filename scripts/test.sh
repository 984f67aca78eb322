#!/usr/bin/env bash
# The test command: lint, type-check and run every test except the live-Databricks ones.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
# Debian chromium for the browser tests (under CI a missing browser fails them).
source scripts/_chromium.sh
ruff check src tests benchmarks notebooks scripts
ruff format --check src tests benchmarks notebooks scripts
mypy
pytest -m "not databricks_live" "$@"
