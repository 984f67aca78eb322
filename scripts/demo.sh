#!/usr/bin/env bash
# The main job: the whole pipeline on the bundled sample with the embedded defaults (local
# Spark, offline embeddings, local index, grounded generator), then the original UI's four
# example questions, with timings.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
movie-rag demo --workdir .movie_rag/demo "$@"
