#!/usr/bin/env bash
# The main job: build the bundled sample catalogue on the embedded (local) defaults.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
movie-rag build --sample --workdir .movie_rag/demo "$@"
