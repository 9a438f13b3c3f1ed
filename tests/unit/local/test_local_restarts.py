"""Restart supervision: the backoff schedule, and a child that keeps dying is restarted on it, then stopped."""

import threading
import time
from pathlib import Path

import pytest

from reelflow.local.restarts import RestartPolicy, RestartSupervisor
from reelflow.local.supervision import ChildProcess


@pytest.mark.parametrize(("deaths", "delay"), [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (40, 30.0)])
def test_the_wait_doubles_per_death_up_to_its_cap(deaths: int, delay: float) -> None:
    assert RestartPolicy().delay_after(deaths) == delay


def test_a_child_that_keeps_dying_is_restarted_with_growing_waits(tmp_path: Path) -> None:
    child = ChildProcess("flaky", ["sh", "-c", "exit 3"], env={}, log_path=tmp_path / "flaky.log")
    child.start()
    scheduled: list[tuple[str, str, float]] = []
    policy = RestartPolicy(first_delay_sec=0.1, max_delay_sec=0.4, healthy_after_sec=60)
    supervisor = RestartSupervisor(
        {"flaky": child},
        threading.RLock(),
        policy=policy,
        on_restart=lambda *restart: scheduled.append(restart),
        poll_sec=0.02,
    )
    supervisor.start()
    try:
        deadline = time.monotonic() + 10
        while len(scheduled) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        supervisor.stop()
    assert [delay for _, _, delay in scheduled[:5]] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert all(how == "exited with status 3" for _, how, _ in scheduled)
    assert supervisor.restarts["flaky"] >= 4
    restarts_when_stopped = supervisor.restarts["flaky"]
    time.sleep(0.5)
    assert supervisor.restarts["flaky"] == restarts_when_stopped, "a stopped supervisor restarts nothing"


def test_a_child_that_stays_up_long_enough_starts_again_from_the_first_wait(tmp_path: Path) -> None:
    marker = tmp_path / "runs"
    script = f"echo run >> {marker}; n=$(wc -l < {marker}); if [ $n -eq 3 ]; then sleep 0.6; fi; exit 1"
    child = ChildProcess("recovering", ["sh", "-c", script], env={"PATH": "/usr/bin:/bin"}, log_path=tmp_path / "r.log")
    child.start()
    scheduled: list[float] = []
    policy = RestartPolicy(first_delay_sec=0.05, max_delay_sec=1.0, healthy_after_sec=0.3)
    supervisor = RestartSupervisor(
        {"recovering": child},
        threading.RLock(),
        policy=policy,
        on_restart=lambda *r: scheduled.append(r[2]),
        poll_sec=0.02,
    )
    supervisor.start()
    try:
        deadline = time.monotonic() + 10
        while len(scheduled) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        supervisor.stop()
    # Deaths 1 and 2 back off; run 3 lived past healthy_after_sec, so death 3 counts as a first again.
    assert scheduled[:4] == [0.05, 0.1, 0.05, 0.1]
