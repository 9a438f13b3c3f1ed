"""The Dockerfile: lint-clean under hadolint (from the dev group), dependencies from uv.lock before the source,
the media tools in a slim non-root final stage, and a healthcheck that really checks. No Docker engine is needed."""

import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from reelflow.local.ports import LOOPBACK
from tests.deploy.deployment_files import DOCKERFILE, DOCKERIGNORE, HEALTHCHECK_SCRIPT, REPO, dev_tool

HADOLINT_TIMEOUT_SEC = 60


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, arguments = stripped.partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint_finds_nothing() -> None:
    completed = subprocess.run(
        [str(dev_tool("hadolint")), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=HADOLINT_TIMEOUT_SEC,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_dependencies_are_installed_from_the_lock_before_the_source_is_copied() -> None:
    build = stages()[0]
    dependencies = next(index for index, (_, arguments) in enumerate(build) if "--no-install-workspace" in arguments)
    source = next(
        index for index, (keyword, arguments) in enumerate(build) if keyword == "COPY" and "/src" in arguments
    )
    assert dependencies < source, "the dependency layer must not depend on the source"
    copied_first = [
        path for keyword, arguments in build[:dependencies] if keyword == "COPY" for path in arguments.split()[:-1]
    ]
    assert "uv.lock" in copied_first
    assert all(path.endswith(("pyproject.toml", "uv.lock", "README.md")) for path in copied_first), copied_first
    syncs = [arguments for keyword, arguments in build if keyword == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2 and all("--locked" in sync and "--no-dev" in sync for sync in syncs)
    assert "--no-editable" in syncs[1], "the final stage copies the venv alone, without the source tree"


def test_every_workspace_member_is_copied() -> None:
    copied = " ".join(arguments for keyword, arguments in instructions() if keyword == "COPY")
    members = [path.parent.relative_to(REPO) for path in REPO.glob("services/*/pyproject.toml")]
    members += [Path("contracts"), Path("runtime")]
    for member in members:
        assert f"{member}/pyproject.toml" in copied, member
        assert f"{member}/src" in copied, member
    assert re.search(r"(^| )src src( |$)", copied)


def test_final_stage_has_the_media_tools_and_runs_non_root() -> None:
    final = stages()[-1]
    runs = " ".join(arguments for keyword, arguments in final if keyword == "RUN")
    for package in ("ffmpeg", "espeak-ng", "fonts-nanum", "fontconfig"):
        assert re.search(rf"\b{package}\b", runs), package
    assert "--no-install-recommends" in runs and "rm -rf /var/lib/apt/lists" in runs
    (user,) = [arguments for keyword, arguments in final if keyword == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) > 0, "a numeric non-root USER, so runAsNonRoot can verify it"
    env = " ".join(arguments for keyword, arguments in final if keyword == "ENV")
    for variable in ("HOME=/tmp", "TMPDIR=/tmp", "XDG_CACHE_HOME=/tmp/", "REELFLOW_HEALTH_HOST=0.0.0.0"):
        assert variable in env, variable
    assert any(keyword == "HEALTHCHECK" for keyword, _ in final)
    assert ("ENTRYPOINT", '["/usr/bin/tini", "--"]') in final


def test_base_images_are_pinned() -> None:
    for keyword, arguments in instructions():
        if keyword == "ARG" and arguments.startswith("PYTHON_IMAGE="):
            assert re.fullmatch(r"PYTHON_IMAGE=python:3\.\d+\.\d+-slim-\w+", arguments), arguments


def test_dockerignore_admits_what_the_build_copies() -> None:
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "everything is excluded first, then the build's inputs are admitted"
    admitted = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
    for keyword, arguments in instructions():
        if keyword == "COPY" and "--from=" not in arguments:
            sources = [part for part in arguments.split() if not part.startswith("--")][:-1]
            for source in sources:
                assert (REPO / source).exists(), source
                assert any(Path(source).match(pattern) or source.startswith(pattern) for pattern in admitted), source


class _Health(BaseHTTPRequestHandler):
    """200 on /healthz, 503 elsewhere."""

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[int]:
    server = HTTPServer((LOOPBACK, 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(*args: str, env: dict[str, str]) -> int:
    completed = subprocess.run(
        [sys.executable, str(HEALTHCHECK_SCRIPT), *args], env=env, capture_output=True, timeout=30, check=False
    )
    return completed.returncode


def test_healthcheck_passes_on_200_and_fails_otherwise(health_server: int) -> None:
    base = f"http://127.0.0.1:{health_server}"
    assert run_healthcheck(f"{base}/healthz", env={}) == 0
    assert run_healthcheck(f"{base}/readyz", env={}) == 1
    assert run_healthcheck(env={"REELFLOW_HEALTH_PORT": str(health_server)}) == 0
    assert run_healthcheck(env={"REELFLOW_HEALTHCHECK_URL": f"{base}/readyz"}) == 1
    assert run_healthcheck("http://example.com/healthz", env={}) == 1


def test_healthcheck_fails_when_nothing_listens() -> None:
    assert run_healthcheck(env={"REELFLOW_HEALTH_PORT": "9"}) == 1
