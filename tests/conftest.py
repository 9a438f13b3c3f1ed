"""Shared test support: the embedded stack, the running services, per-test ids and the paid-API guard."""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack, StackEndpoints
from reelflow.local.workers import WorkerGroup
from tests.fake_spring_backend import FakeSpringBackend, fake_spring_backend
from tests.gateway_auth import credentials_env

# Port 9 (discard) on loopback: nothing answers, so a call that slips through fails fast and costs nothing.
UNROUTABLE_API_URL = "http://127.0.0.1:9/v1"
DUMMY_API_KEY = "sk-test-not-a-real-key"
LOG_TAIL_LINES_ON_FAILURE = 60
# Short, so a test of a backend that hangs is quick.
BACKEND_TIMEOUT_SEC = 2.0


@dataclass(frozen=True)
class RunningServices:
    """The six services running against the session's embedded stack."""

    gateway_url: str
    endpoints: StackEndpoints
    log_dir: Path
    workers: WorkerGroup

    def log_tails(self, lines: int = LOG_TAIL_LINES_ON_FAILURE) -> str:
        return self.workers.log_tails(lines)


@pytest.fixture(scope="session", autouse=True)
def no_paid_apis() -> Iterator[None]:
    """Point every paid API at a dead local port with a dummy key; a test may override with monkeypatch.

    Every gateway also starts with the test admin and its API key (``tests.gateway_auth``) and no rate limits.
    Worker processes inherit this environment, so it covers them too.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", DUMMY_API_KEY)
        patch.setenv("OPENAI_BASE_URL", UNROUTABLE_API_URL)
        patch.setenv("REELFLOW_LLM_BASE_URL", UNROUTABLE_API_URL)
        # Cloud voices are off unless a test enables them; if one is enabled by mistake it reaches nothing.
        patch.setenv("REELFLOW_OPENAI_TTS_BASE_URL", UNROUTABLE_API_URL)
        patch.setenv("REELFLOW_POLLY_ENDPOINT_URL", UNROUTABLE_API_URL)
        patch.setenv("REELFLOW_GOOGLE_TTS_ENDPOINT", UNROUTABLE_API_URL.removesuffix("/v1"))
        patch.setenv("REELFLOW_YOUTUBE_API_URL", UNROUTABLE_API_URL)
        patch.setenv("REELFLOW_YOUTUBE_TOKEN_URI", UNROUTABLE_API_URL)
        for name, value in credentials_env().items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStack]:
    """nats-server, nx-27017 and nanio on free ports, started once per session by the code `reelflow up` uses."""
    stack = EmbeddedStack(tmp_path_factory.mktemp("stack"))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack(embedded_stack: EmbeddedStack) -> StackEndpoints:
    return embedded_stack.endpoints


@pytest.fixture(scope="session")
def spring_backend() -> Iterator[FakeSpringBackend]:
    """The fake Spring backend the session's gateway fetches render specs from and calls back
    (``tests.fake_spring_backend``); tests set specs under script ids of their own."""
    with fake_spring_backend() as backend:
        yield backend


@pytest.fixture(scope="session")
def services(
    stack: StackEndpoints,
    no_paid_apis: None,
    spring_backend: FakeSpringBackend,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningServices]:
    """All six services as real processes (`reelflow worker NAME`), ready to take jobs; the gateway knows the fake
    Spring backend by the bare names its documents use (BACKEND_BASE_URL …)."""
    gateway_port = free_port()
    gateway_url = f"http://{LOOPBACK}:{gateway_port}"
    log_dir = tmp_path_factory.mktemp("worker-logs")
    env = stack.service_env() | {
        "REELFLOW_GATEWAY_HOST": LOOPBACK,
        "REELFLOW_GATEWAY_PORT": str(gateway_port),
        "REELFLOW_LOG_FORMAT": "json",
        "BACKEND_BASE_URL": spring_backend.base_url,
        "BACKEND_API_TOKEN": spring_backend.token,
        "BACKEND_TIMEOUT_SEC": str(BACKEND_TIMEOUT_SEC),
    }
    workers = WorkerGroup(env, log_dir)
    workers.start()
    try:
        workers.wait_ready(stack.nats_url, gateway_url)
        yield RunningServices(gateway_url=gateway_url, endpoints=stack, log_dir=log_dir, workers=workers)
    finally:
        workers.stop()


@pytest.fixture
def unique_id() -> str:
    """A short random hex id for this test's subjects, stream, database and bucket names."""
    return uuid.uuid4().hex[:12]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, add the log tails of the servers and services the test used to its report.

    Under ``scripts/test.sh`` (``REELFLOW_NO_SKIPS=1``), which installs every tool first, a skipped test fails:
    a skip there means the bootstrap left something out, and a skip must never pass for a run test.
    """
    report: pytest.TestReport = yield
    if report.skipped and os.environ.get("REELFLOW_NO_SKIPS") == "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under scripts/test.sh, which installs every tool the suite needs: {reason}"
    if report.failed and isinstance(item, pytest.Function):
        running = item.funcargs.get("services")
        if isinstance(running, RunningServices):
            report.sections.append(("reelflow service logs", running.log_tails()))
        stack = item.funcargs.get("embedded_stack")
        if isinstance(stack, EmbeddedStack):
            report.sections.append(("embedded stack logs", stack.log_tails(LOG_TAIL_LINES_ON_FAILURE)))
    return report
