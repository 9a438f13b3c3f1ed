"""Temp roots per process: a dead or replaced process's root is removed at the next start, a live one's is left
alone; job folders made outside any root are removed only once nothing in them has changed for an hour."""

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelflow.runtime.scratch_space import (
    JOB_FOLDER_MAX_IDLE_SEC,
    claim_scratch_space,
    idle_job_folders,
    leftover_roots,
    process_start,
    root_name,
)

NO_SUCH_PID = 4_000_000  # above Linux's pid_max
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times come from /proc")


@pytest.fixture
def keep_tempdir() -> Iterator[None]:
    before = tempfile.tempdir
    yield
    tempfile.tempdir = before


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "30"])
    yield process
    process.kill()
    process.wait()


def age(path: Path, seconds: float) -> None:
    """Set every modification time under ``path`` (itself included) to ``seconds`` ago."""
    then = time.time() - seconds
    for entry in [*path.rglob("*"), path]:
        os.utime(entry, (then, then), follow_symlinks=False)


@linux_only
def test_a_process_start_is_stable_and_a_gone_process_has_none(sleeper: subprocess.Popen[bytes]) -> None:
    start = process_start(sleeper.pid)
    assert start is not None and start > 0
    assert process_start(sleeper.pid) == start
    assert process_start(NO_SUCH_PID) is None
    sleeper.kill()
    sleeper.wait()
    assert process_start(sleeper.pid) is None


@linux_only
def test_roots_of_gone_or_replaced_processes_are_leftovers_and_live_ones_are_not(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    sleeper_start = process_start(sleeper.pid)
    own_start = process_start(os.getpid())
    assert sleeper_start is not None and own_start is not None
    gone = tmp_path / root_name("compose", NO_SUCH_PID, 12345)
    replaced = tmp_path / root_name("tts", sleeper.pid, sleeper_start - 1)  # the pid now runs a later process
    live = tmp_path / root_name("tts", sleeper.pid, sleeper_start)
    own = tmp_path / root_name("gateway", os.getpid(), own_start)
    for root in (gone, replaced, live, own):
        root.mkdir()
    (tmp_path / "reelflow-render-abc").mkdir()  # not a root
    (tmp_path / root_name("storage", NO_SUCH_PID, 1)).write_text("a file, not a root")
    (tmp_path / root_name("script", NO_SUCH_PID, 2)).symlink_to(tmp_path / "reelflow-render-abc")

    assert leftover_roots(tmp_path) == sorted([gone, replaced])


def test_claiming_removes_leftovers_and_points_tempfile_at_the_own_root(tmp_path: Path, keep_tempdir: None) -> None:
    dead = tmp_path / root_name("tts", NO_SUCH_PID, 777)
    (dead / "reelflow-tts-x").mkdir(parents=True)
    (dead / "reelflow-tts-x" / "scene.wav").write_bytes(b"RIFF")

    root = claim_scratch_space("tts", base=tmp_path)

    assert not dead.exists()
    assert root.parent == tmp_path and root.name.startswith(f"reelflow-tts-{os.getpid()}-") and root.is_dir()
    assert leftover_roots(tmp_path) == [], "a process's own root is never a leftover"
    with tempfile.TemporaryDirectory(prefix="reelflow-tts-") as folder:
        assert Path(folder).parent == root


def test_a_second_claim_in_one_process_makes_a_sibling_not_a_nested_root(tmp_path: Path, keep_tempdir: None) -> None:
    first = claim_scratch_space("gateway", base=tmp_path)
    second = claim_scratch_space("compose")
    assert second.parent == first.parent == tmp_path
    assert first.is_dir(), "the first root belongs to a live process"


def test_only_job_folders_idle_for_an_hour_are_removed(tmp_path: Path) -> None:
    idle = tmp_path / "reelflow-compose-k3j4_x9a"
    (idle / "parts").mkdir(parents=True)
    (idle / "parts" / "segment-001.mp4").write_bytes(b"old")
    busy = tmp_path / "reelflow-tts-0a1b2c3d"
    (busy / "deep").mkdir(parents=True)
    (busy / "deep" / "scene.wav").write_bytes(b"new")
    recent = tmp_path / "reelflow-storage-zzzzzzzz"
    recent.mkdir()
    not_ours = tmp_path / "reelflow-compose-idle-but-not-a-tempfile-name"
    not_ours.mkdir()
    for folder in (idle, busy, not_ours):
        age(folder, JOB_FOLDER_MAX_IDLE_SEC + 60)
    age(busy / "deep" / "scene.wav", 5)  # something inside is still being written
    age(recent, JOB_FOLDER_MAX_IDLE_SEC - 60)

    assert idle_job_folders(tmp_path, now=time.time()) == [idle]


def test_claiming_removes_idle_job_folders_too(tmp_path: Path, keep_tempdir: None) -> None:
    idle = tmp_path / "reelflow-render-abcdefgh"
    (idle / "data").mkdir(parents=True)
    age(idle, 2 * JOB_FOLDER_MAX_IDLE_SEC)
    claim_scratch_space("compose", base=tmp_path)
    assert not idle.exists()


def test_a_service_name_that_could_never_be_recognised_as_a_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lower-case"):
        claim_scratch_space("Compose-2", base=tmp_path)
