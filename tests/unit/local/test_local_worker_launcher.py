"""Workers forked from the preloaded launcher behave like `reelflow worker NAME` started from a shell: their own
environment, session, log and exit status, and a restart is a fresh process.

No servers run here: a worker pointed at a dead NATS port keeps waiting for it, which is all these tests need.
The first start waits for the fork server to import every service, a few seconds on a busy machine.
"""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.worker_launcher import ForkedWorker, process_name

DEAD_NATS_URL = f"nats://{LOOPBACK}:9"  # the discard port: nothing answers
START_TIMEOUT_SEC = 60.0


def wait_for(condition_met: Callable[[], bool], what: str, timeout_sec: float = START_TIMEOUT_SEC) -> None:
    deadline = time.monotonic() + timeout_sec
    while not condition_met():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


@pytest.fixture
def waiting_worker(tmp_path: Path) -> Iterator[ForkedWorker]:
    """The script worker, forked, waiting for a NATS that never comes."""
    (tmp_path / "tmp").mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(tmp_path / "tmp"),
        "REELFLOW_NATS_URL": DEAD_NATS_URL,
        "REELFLOW_HEALTH_PORT": str(free_port()),
    }
    worker = ForkedWorker("script", env=env, log_path=tmp_path / "script.log")
    worker.start()
    try:
        yield worker
    finally:
        worker.kill()


def test_process_names_fit_the_kernel_limit() -> None:
    assert process_name("compose") == "rf-compose"
    assert process_name("a-rather-long-service") == "rf-a-rather-lon"


def test_an_unknown_service_exits_with_the_cli_status_and_its_complaint_in_the_log(tmp_path: Path) -> None:
    worker = ForkedWorker("no-such-service", env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "w.log")
    worker.start()
    wait_for(lambda: not worker.is_running(), "the worker to exit")
    assert worker.returncode == 2
    assert worker.describe_exit() == "exited with status 2"
    assert "invalid choice: 'no-such-service'" in worker.log_tail()


def test_a_forked_worker_has_its_own_session_name_and_environment(waiting_worker: ForkedWorker) -> None:
    pid = waiting_worker.pid
    assert pid is not None
    wait_for(lambda: Path(f"/proc/{pid}/comm").read_text().strip() == "rf-script", "the process name")
    _, _, group, session = stat_fields(pid)[:4]
    assert int(group) == pid and int(session) == pid, "it leads its own session and process group"
    # Its temp root lands in the TMPDIR it was given, not the fork server's temp folder.
    temp_folder = Path(waiting_worker.env["TMPDIR"])
    wait_for(lambda: any(temp_folder.glob(f"reelflow-script-{pid}-*")), "the worker's temp root in its TMPDIR")
    assert waiting_worker.log_tail().startswith("--- "), "each run's output starts after its banner line"


def test_a_killed_worker_says_so_and_starts_again_as_a_new_process(waiting_worker: ForkedWorker) -> None:
    first = waiting_worker.pid
    waiting_worker.kill()
    assert not waiting_worker.is_running()
    assert waiting_worker.describe_exit() == "was killed by SIGKILL"
    assert not Path(f"/proc/{first}").exists(), "killed and reaped"

    waiting_worker.start()
    assert waiting_worker.is_running()
    assert waiting_worker.pid not in (None, first)
    with pytest.raises(RuntimeError, match="already running"):
        waiting_worker.start()
