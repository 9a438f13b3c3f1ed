#!/usr/bin/env bash
# Renders the bundled sample lesson (Korean by default; `scripts/demo.sh en` for English) to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
lang="${1:-ko}"
uv run --no-sync reelflow render "services/script/src/reelflow/script/samples/lesson_${lang}.md" -o "out/lesson_${lang}.mp4"
