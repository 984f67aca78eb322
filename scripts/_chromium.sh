#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the browser tests (Playwright drives the
# system browser; it never downloads one). Sourced by test.sh.
set -euo pipefail

CHROMIUM=${MOVIE_RAG_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing chromium (apt-get) for the browser tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "installing chromium (sudo apt-get) for the browser tests" >&2
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need chromium at $CHROMIUM." >&2
    echo "       Install it as root: apt-get install chromium" >&2
    echo "       (or point MOVIE_RAG_CHROMIUM at a Chromium binary)." >&2
    exit 1
  fi
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "error: chromium is still missing at $CHROMIUM after installing it" >&2
  exit 1
fi
export MOVIE_RAG_CHROMIUM="$CHROMIUM"
