#!/usr/bin/env bash
# The whole suite: lint, types, then unit, connected and end-to-end tests on real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --tests
export PATH="$HOME/.local/bin:$PATH"
echo "== ruff"; uv run --no-sync ruff check .
uv run --no-sync ruff format --check .
echo "== mypy (strict)"; uv run --no-sync mypy
# Every tool is installed by now, so a skipped test is a failure (tests/conftest.py). The 25 slowest tests are
# listed at the end: CI must finish within 30 minutes on 2 cores, so a new slow test should replace one of them.
echo "== pytest"; REELFLOW_NO_SKIPS=1 uv run --no-sync pytest --durations=25 "$@"
