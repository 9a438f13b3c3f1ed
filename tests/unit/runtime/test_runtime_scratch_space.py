"""Temp roots per process: a dead worker's root is removed at the next start, a live one's is left alone."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelflow.runtime.scratch_space import claim_scratch_space, leftover_roots

NO_SUCH_PID = 4_000_000  # above Linux's pid_max


@pytest.fixture
def keep_tempdir() -> Iterator[None]:
    before = tempfile.tempdir
    yield
    tempfile.tempdir = before


def test_roots_of_dead_or_foreign_pids_are_leftovers_and_live_reelflow_ones_are_not(tmp_path: Path) -> None:
    live_reelflow = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "reelflow-worker"])
    foreign = subprocess.Popen(["sleep", "30"])  # a reused pid: alive, but not reelflow
    try:
        for pid in (NO_SUCH_PID, live_reelflow.pid, foreign.pid, os.getpid()):
            (tmp_path / f"reelflow-compose-{pid}").mkdir()
        (tmp_path / "reelflow-render-abc").mkdir()  # not a worker root
        (tmp_path / f"reelflow-tts-{NO_SUCH_PID}.txt").write_text("a file, not a root")

        found = leftover_roots(tmp_path, own_pid=os.getpid())

        assert found == sorted(
            [tmp_path / f"reelflow-compose-{NO_SUCH_PID}", tmp_path / f"reelflow-compose-{foreign.pid}"]
        )
    finally:
        live_reelflow.kill()
        foreign.kill()
        live_reelflow.wait()
        foreign.wait()


def test_claiming_removes_leftovers_and_points_tempfile_at_the_own_root(tmp_path: Path, keep_tempdir: None) -> None:
    dead = tmp_path / f"reelflow-tts-{NO_SUCH_PID}"
    (dead / "reelflow-tts-x").mkdir(parents=True)
    (dead / "reelflow-tts-x" / "scene.wav").write_bytes(b"RIFF")

    root = claim_scratch_space("tts", base=tmp_path)

    assert not dead.exists()
    assert root == tmp_path / f"reelflow-tts-{os.getpid()}" and root.is_dir()
    with tempfile.TemporaryDirectory(prefix="reelflow-tts-") as folder:
        assert Path(folder).parent == root
