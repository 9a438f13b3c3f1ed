# syntax=docker/dockerfile:1
# One image for all six reelflow services. Build it from the repository root:
#
#   docker build -t reelflow:0.1.0 .
#
# and start one service per container with its command:  reelflow worker script|tts|compose|storage|uploader|gateway
#
# The image runs as uid 10001 and works with a read-only root filesystem: everything that writes (temp files,
# caches, HOME) goes under /tmp, which Kubernetes and docker-compose mount as a writable volume.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- build: the locked virtual environment ------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

# uv from PyPI, the same version the developer machines use (scripts/bootstrap.sh).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"

# Compile bytecode now, because the running container cannot write it; copy instead of hard-linking out of the cache;
# never download an interpreter: the venv is built on the base image's Python, which the final stage also has.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Dependencies first, from uv.lock alone: this layer is rebuilt only when the lock or a pyproject.toml changes,
# not on every source edit. `--no-install-workspace` leaves out the reelflow packages themselves.
COPY pyproject.toml uv.lock README.md ./
COPY contracts/pyproject.toml contracts/
COPY runtime/pyproject.toml runtime/
COPY services/script/pyproject.toml services/script/
COPY services/tts/pyproject.toml services/tts/
COPY services/compose/pyproject.toml services/compose/
COPY services/storage/pyproject.toml services/storage/
COPY services/uploader/pyproject.toml services/uploader/
COPY services/gateway/pyproject.toml services/gateway/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-workspace

# Then the source, installed as regular (not editable) packages so the final image needs no source tree.
COPY contracts/src contracts/src
COPY runtime/src runtime/src
COPY services/script/src services/script/src
COPY services/tts/src services/tts/src
COPY services/compose/src services/compose/src
COPY services/storage/src services/storage/src
COPY services/uploader/src services/uploader/src
COPY services/gateway/src services/gateway/src
COPY src src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable

# ---- runtime: slim Python, the media tools and the venv --------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# FFmpeg (compose, upload probes), espeak-ng (offline narration), NanumGothic (Korean slides and subtitles) with
# fontconfig, and tini as PID 1 so SIGTERM reaches the worker and finished FFmpeg children are reaped.
# fc-cache runs now because the font cache cannot be written at run time.
# Versions are not pinned: the base image tag fixes the Debian release, and Debian replaces a package version in
# the archive when a security fix lands, so pinned versions would stop the image from building.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg espeak-ng fonts-nanum fontconfig tini \
    && rm -rf /var/lib/apt/lists/* \
    && fc-cache -f \
    && groupadd --system --gid 10001 reelflow \
    && useradd --system --uid 10001 --gid reelflow --no-create-home --home-dir /tmp --shell /usr/sbin/nologin reelflow

COPY --from=build /app/.venv /app/.venv
COPY --chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/reelflow-healthcheck

# Everything writable lives under /tmp (a volume in compose, an emptyDir in Kubernetes).
# The health servers must listen on all interfaces inside a container; the settings default to loopback.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TMPDIR=/tmp \
    HOME=/tmp \
    XDG_CACHE_HOME=/tmp/.cache \
    XDG_CONFIG_HOME=/tmp/.config \
    XDG_DATA_HOME=/tmp/.local/share \
    REELFLOW_HEALTH_HOST=0.0.0.0 \
    REELFLOW_HEALTH_PORT=8080 \
    REELFLOW_GATEWAY_HOST=0.0.0.0 \
    REELFLOW_GATEWAY_PORT=8000

USER 10001:10001
WORKDIR /tmp
VOLUME ["/tmp"]
EXPOSE 8000 8080

# Workers answer GET /healthz on REELFLOW_HEALTH_PORT; the gateway sets REELFLOW_HEALTHCHECK_URL to its own port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["reelflow-healthcheck"]

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["reelflow", "--help"]
