"""A worker killed with SIGKILL cannot clean up after itself: what it left in the temp folder goes when the worker
starts again.

No servers run here: a worker pointed at a dead NATS port claims its temp root and then keeps waiting, which is all
this needs. The first start waits for the worker launcher to import every service (a few seconds).
"""

import time
from pathlib import Path

import pytest

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.worker_launcher import ForkedWorker

pytestmark = pytest.mark.reliability

TIMEOUT_SEC = 60.0


def roots_of(temp_folder: Path, pid: int | None) -> list[Path]:
    return list(temp_folder.glob(f"reelflow-tts-{pid}-*"))


def wait_for_root(temp_folder: Path, pid: int | None) -> Path:
    deadline = time.monotonic() + TIMEOUT_SEC
    while not (found := roots_of(temp_folder, pid)):
        assert time.monotonic() < deadline, f"the worker (pid {pid}) never made its temp root"
        time.sleep(0.05)
    return found[0]


def test_the_temp_root_of_a_killed_worker_is_removed_when_it_starts_again(tmp_path: Path) -> None:
    temp_folder = tmp_path / "tmp"
    temp_folder.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(temp_folder),
        "REELFLOW_NATS_URL": f"nats://{LOOPBACK}:9",  # nothing answers: the worker waits after claiming its root
        "REELFLOW_HEALTH_PORT": str(free_port()),
    }
    worker = ForkedWorker("tts", env=env, log_path=tmp_path / "tts.log")
    worker.start()
    try:
        first_pid = worker.pid
        first_root = wait_for_root(temp_folder, first_pid)
        job_folder = first_root / "reelflow-tts-abcd1234"  # what a step in progress had written
        job_folder.mkdir()
        (job_folder / "scene-001.wav").write_bytes(b"RIFF" + bytes(1024))

        worker.kill()
        assert first_root.exists(), "SIGKILL gives the worker no chance to clean up"

        worker.start()
        second_root = wait_for_root(temp_folder, worker.pid)
        deadline = time.monotonic() + TIMEOUT_SEC
        while first_root.exists():
            assert time.monotonic() < deadline, "the dead worker's temp root was not removed"
            time.sleep(0.05)
        assert second_root.is_dir()
        assert sorted(temp_folder.iterdir()) == [second_root], "nothing else is left in the temp folder"
    finally:
        worker.kill()
