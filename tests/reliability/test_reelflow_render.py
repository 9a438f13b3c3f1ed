"""`reelflow render` with an embedded stack, stopped by SIGTERM or SIGINT mid-render: every process it started is
gone, its temporary folder too, and it says it was interrupted (exit code 130).

Slow-ish (about half a minute each): every test starts the whole embedded stack and six workers as real processes.
The workers drain for 2 s here (REELFLOW_SHUTDOWN_GRACE_SEC) instead of 20, to keep the stop short.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.process_tree import alive, descendants, stop_whatever_is_left

pytestmark = [pytest.mark.connected, pytest.mark.reliability]

START_TIMEOUT_SEC = 120.0
STOP_TIMEOUT_SEC = 40.0
EXIT_INTERRUPTED = 130
LESSON = "# Passwords\n\nA long passphrase is easier to remember than a short password. Never reuse one.\n"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_render_leaves_nothing_behind(tmp_path: Path, stop_signal: signal.Signals) -> None:
    lesson = tmp_path / "lesson.md"
    lesson.write_text(LESSON)
    temp_folder = tmp_path / "tmp"
    temp_folder.mkdir()
    log_path = tmp_path / "render.log"
    env = os.environ | {"TMPDIR": str(temp_folder), "REELFLOW_SHUTDOWN_GRACE_SEC": "2"}
    command = [sys.executable, "-m", "reelflow.cli.main", "render", str(lesson), "-o", str(tmp_path / "out.mp4")]
    with log_path.open("wb") as log:
        # --embedded: a stack of its own, never one another test (or person) runs on :8000.
        render = subprocess.Popen(
            [*command, "--embedded"], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SEC
        while "started in" not in (output := log_path.read_text(errors="replace")):
            assert render.poll() is None, f"reelflow render exited early:\n{output[-3000:]}"
            assert time.monotonic() < deadline, f"the embedded stack did not start:\n{output[-3000:]}"
            time.sleep(0.1)
        started = descendants(render.pid)
        assert len(started) >= 9, f"expected 3 servers and 6 workers under reelflow render, found {len(started)}"

        render.send_signal(stop_signal)
        assert render.wait(timeout=STOP_TIMEOUT_SEC) == EXIT_INTERRUPTED, log_path.read_text(errors="replace")[-3000:]
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if alive(pid)], "processes outlived reelflow render"
        assert not list(temp_folder.glob("reelflow-render-*")), "its temporary stack folder was left behind"
        assert "the embedded stack is down" in log_path.read_text(errors="replace")
    finally:
        stop_whatever_is_left(render)
