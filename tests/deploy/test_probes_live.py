"""The probes the deployments declare answer on a real worker: the image's healthcheck script, pointed where the
Kubernetes probes and the compose healthchecks point, passes against ``reelflow worker tts`` on the embedded stack,
and the worker leaves within the grace the deployments give it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import StackEndpoints
from reelflow.local.workers import worker_command
from tests.deploy.deployment_files import HEALTHCHECK_SCRIPT

pytestmark = pytest.mark.connected

READY_TIMEOUT_SEC = 90.0
# terminationGracePeriodSeconds / stop_grace_period of a worker (tests/deploy/test_kubernetes.py checks them).
WORKER_STOP_GRACE_SEC = 30


def run_healthcheck(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK_SCRIPT), *args],
        env=env or {},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_healthcheck_passes_on_a_real_worker_which_stops_within_its_grace(
    stack: StackEndpoints, tmp_path: Path
) -> None:
    port = free_port()
    env = os.environ | stack.service_env() | {"REELFLOW_HEALTH_HOST": LOOPBACK, "REELFLOW_HEALTH_PORT": str(port)}
    log_path = tmp_path / "tts.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(worker_command("tts"), env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SEC
        while run_healthcheck(f"http://127.0.0.1:{port}/readyz").returncode != 0:
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, f"not ready after {READY_TIMEOUT_SEC:g} s\n{log_path.read_text()}"
            time.sleep(0.25)
        for path in ("/healthz", "/readyz"):
            completed = run_healthcheck(f"http://127.0.0.1:{port}{path}")
            assert completed.returncode == 0, (path, completed.stderr)
        # Without an argument it checks the worker's own REELFLOW_HEALTH_PORT, as the image's HEALTHCHECK does.
        completed = run_healthcheck(env={"REELFLOW_HEALTH_PORT": str(port)})
        assert completed.returncode == 0, completed.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/nothing-here", timeout=5).status_code == httpx.codes.NOT_FOUND

        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=WORKER_STOP_GRACE_SEC) == 0, log_path.read_text()
        assert time.monotonic() - started < WORKER_STOP_GRACE_SEC
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
