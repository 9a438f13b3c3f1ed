"""`reelflow up` as an operator runs it: a first admin on a fresh install, a killed worker comes back by itself, and
SIGTERM or SIGINT leaves no process and no bound port behind.

Slow-ish (about 30 s each): every test starts the whole embedded stack and six workers as real processes.
"""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.process_tree import alive, descendants, stop_whatever_is_left

from reelflow.local.admin_credentials import ADMIN_KEY_FILE
from reelflow.local.ports import LOOPBACK, free_port, port_is_free
from reelflow.local.worker_launcher import process_name
from reelflow.local.workers import SERVICE_NAMES

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

START_TIMEOUT_SEC = 120.0
STOP_TIMEOUT_SEC = 40.0
FIRST_ADMIN_LINE = re.compile(r"^first admin: (\S+) / (\S+) \(shown this once", re.MULTILINE)
HEALTH_LINE = re.compile(r"^  (\w+) +/healthz and /readyz at http://127\.0\.0\.1:(\d+)$", re.MULTILINE)


@dataclass
class RunningUp:
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    log: Path
    data_dir: Path

    @property
    def gateway_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports['port']}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker_pid(up: RunningUp, service: str) -> int | None:
    """The running worker of ``service`` under ``reelflow up``, found by the process name the launcher gives it."""
    for pid in descendants(up.process.pid):
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if name == process_name(service) and alive(pid):
            return pid
    return None


def health_ports(up: RunningUp) -> dict[str, int]:
    """Each worker's health port, as ``reelflow up`` listed them before it said it was up (kept across restarts)."""
    return {name: int(port) for name, port in HEALTH_LINE.findall(up.output())}


def wait_until_up(process: subprocess.Popen[bytes], log: Path, timeout_sec: float) -> None:
    """Until ``reelflow up`` says every service is ready."""
    deadline = time.monotonic() + timeout_sec
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        assert process.poll() is None, f"reelflow up exited early:\n{output[-3000:]}"
        if "reelflow is up" in output:
            return
        time.sleep(0.25)
    raise AssertionError(f"reelflow up was not up within {timeout_sec:g}s:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def reelflow_up(tmp_path: Path) -> Iterator[RunningUp]:
    ports = {name: free_port() for name in ("port", "nats-port", "nats-monitor-port", "mongo-port", "s3-port")}
    log = tmp_path / "up.log"
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "reelflow.cli.main", "up", "--data-dir", str(data_dir)]
    for name, port in ports.items():
        command += [f"--{name}", str(port)]
    with log.open("wb") as output:
        # As an operator starts it: no admin chosen in the environment (the suite's own is set for its gateways).
        env = {name: value for name, value in os.environ.items() if not name.startswith("REELFLOW_ADMIN_")}
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    up = RunningUp(process, ports, log, data_dir)
    try:
        wait_until_up(process, log, START_TIMEOUT_SEC)
        yield up
    finally:
        stop_whatever_is_left(process)


def stop_and_check_nothing_is_left(up: RunningUp, stop_signal: signal.Signals) -> None:
    workers = {service: worker_pid(up, service) for service in SERVICE_NAMES}
    assert all(workers.values()), f"not every worker runs under reelflow up: {workers}"
    children = descendants(up.process.pid)
    assert len(children) >= 9, f"expected 3 servers and 6 workers under reelflow up, found {len(children)}"
    ports = set(up.ports.values()) | set(health_ports(up).values())
    assert len(ports) == len(up.ports) + len(SERVICE_NAMES) - 1, "every worker but the gateway has a health port"
    up.process.send_signal(stop_signal)
    assert up.process.wait(timeout=STOP_TIMEOUT_SEC) == 0, up.output()[-3000:]
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], "processes outlived reelflow up"
    assert all(port_is_free(port) for port in ports), [port for port in ports if not port_is_free(port)]


def test_a_killed_worker_is_restarted_then_sigterm_stops_everything(reelflow_up: RunningUp) -> None:
    compose = worker_pid(reelflow_up, "compose")
    assert compose is not None
    os.kill(compose, signal.SIGKILL)

    deadline = time.monotonic() + 30
    restarted = None
    while time.monotonic() < deadline:
        restarted = worker_pid(reelflow_up, "compose")
        if restarted is not None and restarted != compose:
            break
        time.sleep(0.2)
    assert restarted is not None and restarted != compose, "compose was not restarted"
    assert "compose was killed by SIGKILL" in reelflow_up.output()
    port = health_ports(reelflow_up)["compose"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://{LOOPBACK}:{port}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    else:
        raise AssertionError("the restarted compose never became ready")

    stop_and_check_nothing_is_left(reelflow_up, signal.SIGTERM)


def test_the_first_admin_is_shown_once_and_signs_in_then_sigint_stops_everything(reelflow_up: RunningUp) -> None:
    """A fresh data dir gets a first admin, so the studio can be opened at once: its made-up password is printed
    (once: the next start finds the saved key, see test_admin_credentials.py), and the admin's API key is kept for
    `reelflow render`, readable by its owner only."""
    shown = FIRST_ADMIN_LINE.search(reelflow_up.output())
    assert shown is not None, reelflow_up.output()[-3000:]
    email, password = shown.groups()
    signed_in = httpx.post(
        f"{reelflow_up.gateway_url}/api/auth/login", json={"email": email, "password": password}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["role"] == "admin"
    key_file = reelflow_up.data_dir / ADMIN_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    headers = {"Authorization": f"Bearer {key_file.read_text().strip()}"}
    me = httpx.get(f"{reelflow_up.gateway_url}/api/me", headers=headers, timeout=10)
    assert me.status_code == 200 and me.json()["user"]["email"] == email, me.text

    stop_and_check_nothing_is_left(reelflow_up, signal.SIGINT)


def test_sigkill_of_reelflow_up_takes_its_servers_and_workers_with_it(reelflow_up: RunningUp) -> None:
    """kill -9 cannot be handled by `reelflow up` itself: the kernel tells its children (PR_SET_PDEATHSIG), the
    servers stop and the workers drain and stop, so nothing is left holding the ports."""
    children = descendants(reelflow_up.process.pid)
    assert len(children) >= 9, f"expected 3 servers and 6 workers under reelflow up, found {len(children)}"
    ports = set(reelflow_up.ports.values()) | set(health_ports(reelflow_up).values())
    reelflow_up.process.kill()
    reelflow_up.process.wait(timeout=10)
    deadline = time.monotonic() + STOP_TIMEOUT_SEC
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = {pid: Path(f"/proc/{pid}/comm").read_text().strip() for pid in children if alive(pid)}
    assert not left, f"processes outlived a SIGKILLed reelflow up: {left}"
    assert all(port_is_free(port) for port in ports), [port for port in ports if not port_is_free(port)]
