#!/usr/bin/env bash
# Render benchmark: the same 12-scene, ~3-minute 1280x720 lesson through reelflow and through MoviePy 2.x.
# Quick check: scripts/bench.sh --skip-moviepy --scenes 2 --scene-seconds 2 --modes basic
# The full run takes a long while (MoviePy renders frame by frame in Python); see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
# Each timed run waits (up to 90 s) for the machine's load to settle first; --settle-sec 0 turns that off.
exec nice -n 10 uv run --no-sync python -m bench.render --settle-sec 90 "$@"
