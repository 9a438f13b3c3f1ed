"""Processes a test started and everything they started in turn: found through /proc, stopped by pid."""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

STOP_TIMEOUT_SEC = 40.0


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, found through /proc's parent links."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    """Running: not gone, and not a zombie waiting to be reaped."""
    try:
        return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z"
    except (OSError, IndexError):
        return False


def stop_whatever_is_left(process: subprocess.Popen[bytes]) -> None:
    """After a failed test: stop a `reelflow up` or `render` the way an operator would, and if that fails, SIGKILL it
    and every process it started (by pid: its servers and workers lead sessions of their own, so no group signal
    reaches them)."""
    if process.poll() is not None:
        return
    started = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SEC)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in started | descendants(process.pid):
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
