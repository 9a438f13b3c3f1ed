"""Running one command while measuring its wall time and the peak resident memory of its whole process tree.

Both engines spend much of their memory outside Python (reelflow in its FFmpeg children, MoviePy in the
FFmpeg writer it pipes frames into), so the Python process's own ``ru_maxrss`` would hide most of it.
Every ``interval_sec`` the sampler finds the descendants of the started process (:class:`TreeWatch`), sums
their ``VmRSS`` and keeps the largest sum. A child that starts and ends between two samples is
missed; at 50 ms that is only ever a short-lived helper, never an encoder.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
DEFAULT_INTERVAL_SEC = 0.05
KILL_GRACE_SEC = 5.0


@dataclass(frozen=True)
class TreeUsage:
    """What one measured run cost."""

    exit_code: int
    wall_sec: float
    peak_rss_bytes: int  # largest sum of VmRSS over the process and all its descendants at one sample
    peak_process_count: int  # processes alive in the tree at the largest sample
    largest_process_rss_bytes: int  # the kernel's ru_maxrss of the biggest single process, as a cross-check
    samples: int
    timed_out: bool  # killed, with its whole process group, for outliving its timeout


def _parent_of(pid: int, proc: Path = PROC) -> int | None:
    """The parent id in ``/proc/<pid>/stat``; None when the process has gone."""
    try:
        stat = (proc / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after the last ")" do not.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else None


def _listed_pids(proc: Path = PROC) -> set[int]:
    return {int(entry.name) for entry in os.scandir(proc) if entry.name.isdigit()}


class TreeWatch:
    """One process and its descendants, sampled again and again at little cost: each sample lists ``/proc`` and
    reads the parent of the processes it has not seen before only (a process's parent changes only when its own
    parent ends, and then it has left the tree anyway). Reading every process's ``stat`` at every sample, as the
    sampler did before, took ~2.5 ms of CPU with 85 processes (0.2 ms this way): 5% of a core at 50 ms intervals,
    taken from an engine that keeps both cores busy (reelflow), not from one that leaves a core idle (MoviePy)."""

    def __init__(self, root: int, proc: Path = PROC) -> None:
        self._root = root
        self._proc = proc
        self._parents: dict[int, int] = {}

    def tree(self) -> set[int]:
        alive = _listed_pids(self._proc)
        for pid in self._parents.keys() - alive:
            del self._parents[pid]
        for pid in alive - self._parents.keys():
            ppid = _parent_of(pid, self._proc)
            if ppid is not None:
                self._parents[pid] = ppid
        return descendants(self._root, self._parents)


def descendants(root: int, parents: Mapping[int, int]) -> set[int]:
    """``root`` and every process whose chain of parents leads to it."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def rss_bytes(pid: int, proc: Path = PROC) -> int:
    """``VmRSS`` of one process; 0 for a zombie or a process that is already gone."""
    try:
        with (proc / str(pid) / "status").open("rb") as handle:
            for line in handle:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


def tree_rss_bytes(pids: Iterable[int], proc: Path = PROC) -> int:
    return sum(rss_bytes(pid, proc) for pid in pids)


def run_measured(
    args: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    timeout_sec: float,
    env: Mapping[str, str] | None = None,
    interval_sec: float = DEFAULT_INTERVAL_SEC,
) -> TreeUsage:
    """Run ``args`` to completion, sampling its process tree's memory, with stdout and stderr in ``log_path``.

    The command gets its own session so that on timeout or interrupt the whole group, FFmpeg children
    included, is killed. A non-zero exit or a timeout is returned (``exit_code``, ``timed_out``), not raised.
    """
    peak_rss = 0
    peak_count = 0
    samples = 0
    timed_out = False
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        watch = TreeWatch(process.pid)
        try:
            while True:
                tree = watch.tree()
                total = tree_rss_bytes(tree)
                samples += 1
                if total > peak_rss:
                    peak_rss, peak_count = total, len(tree)
                # wait4 reaps the child and hands back its rusage, which Popen.wait would discard.
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid == process.pid:
                    wall = time.monotonic() - started
                    process.returncode = os.waitstatus_to_exitcode(status)
                    break
                if time.monotonic() - started > timeout_sec and not timed_out:
                    timed_out = True
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)  # reaped by the next wait4
                time.sleep(interval_sec)
        except BaseException:
            if process.returncode is None:
                _kill_group(process)
            raise
    return TreeUsage(
        exit_code=process.returncode,
        wall_sec=wall,
        peak_rss_bytes=peak_rss,
        peak_process_count=peak_count,
        largest_process_rss_bytes=usage.ru_maxrss * 1024,  # Linux reports kilobytes
        samples=samples,
        timed_out=timed_out,
    )


def _kill_group(process: "subprocess.Popen[bytes]") -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
        process.wait(timeout=KILL_GRACE_SEC)
