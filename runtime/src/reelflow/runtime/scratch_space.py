"""Each service process's own temp root, and the removal of what dead processes left in the temp folder.

Every ``tempfile.TemporaryDirectory`` a service makes lands in ``{tmp}/reelflow-{service}-{pid}-{start}``, where
``start`` is when the process started (clock ticks since boot, from ``/proc``). When a worker is killed before its
``with`` blocks can clean up, the next service process to start finds that root and removes it: its pid no longer
runs, or runs a different process that started later (a reused pid), so nothing can still be using it.

Job folders made straight in the temp folder (``reelflow-compose-xxxxxxxx`` …: by a release without roots, or by
code run in-process, such as tests and benchmarks) have no owner to check. They are removed once nothing in them has
changed for :data:`JOB_FOLDER_MAX_IDLE_SEC`: a step writes its folder throughout and ends well within that.
"""

import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import structlog

log = structlog.get_logger("reelflow.scratch_space")

JOB_FOLDER_MAX_IDLE_SEC = 3600.0
_SERVICE_NAME = re.compile(r"^[a-z0-9_]+$")
_ROOT_NAME = re.compile(r"^reelflow-[a-z0-9_]+-(?P<pid>\d+)-(?P<start>\d+)$")
# tempfile's names: the prefix, then 8 characters from [a-z0-9_].
_JOB_FOLDER_NAME = re.compile(r"^reelflow-(?:compose|tts|storage|upload|render)-[a-z0-9_]{8}$")
_STAT_STATE, _STAT_START_TIME = 0, 19  # fields 3 and 22 of /proc/PID/stat, counted after the command name
_UNKNOWN_START = 0  # where /proc is missing: a root is then judged by its pid alone


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot), or None when it is not running (a zombie included).

    Without ``/proc`` (not Linux) a running process gives ``0``: its start is unknown.
    """
    if not sys.platform.startswith("linux"):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return _UNKNOWN_START  # it runs, as another user
        return _UNKNOWN_START
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[_STAT_STATE] == "Z":
        return None
    return int(fields[_STAT_START_TIME])


def root_name(service: str, pid: int, start: int) -> str:
    return f"reelflow-{service}-{pid}-{start}"


def leftover_roots(base: Path) -> list[Path]:
    """Temp roots under ``base`` whose process is gone: its pid does not run, or a later process now has it."""
    found = []
    for entry in _entries(base):
        match = _ROOT_NAME.match(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        start = int(match["start"])
        running_since = process_start(int(match["pid"]))
        if running_since is None or (start != _UNKNOWN_START and running_since != start):
            found.append(entry)
    return sorted(found)


def idle_job_folders(base: Path, *, now: float, max_idle_sec: float = JOB_FOLDER_MAX_IDLE_SEC) -> list[Path]:
    """Job folders straight under ``base`` in which nothing has changed for ``max_idle_sec``."""
    return sorted(
        entry
        for entry in _entries(base)
        if _JOB_FOLDER_NAME.match(entry.name)
        and not entry.is_symlink()
        and entry.is_dir()
        and now - _last_change(entry) > max_idle_sec
    )


def claim_scratch_space(service: str, base: Path | None = None) -> Path:
    """Give this process its own temp root (Python's ``tempfile`` then uses it) after removing what dead processes
    left under ``base`` (the system temp folder by default)."""
    if not _SERVICE_NAME.match(service):
        raise ValueError(f"service name {service!r} must be lower-case letters, digits and '_'")
    if base is None:
        current = Path(tempfile.gettempdir())
        base = current.parent if _ROOT_NAME.match(current.name) else current
    for leftover in [*leftover_roots(base), *idle_job_folders(base, now=time.time())]:
        shutil.rmtree(leftover, ignore_errors=True)
        log.info("removed a temp folder left behind", path=str(leftover))
    pid = os.getpid()
    root = base / root_name(service, pid, process_start(pid) or _UNKNOWN_START)
    root.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(root)
    return root


def _entries(base: Path) -> list[Path]:
    try:
        return list(base.iterdir())
    except OSError:
        return []


def _last_change(folder: Path) -> float:
    """The newest modification time in the tree under ``folder`` (the folder itself included); a folder that cannot
    be read counts as changed just now, so it is left alone."""
    try:
        newest = folder.stat().st_mtime
    except OSError:
        return float("inf")
    for directory, subdirectories, files in os.walk(folder):
        for name in (*subdirectories, *files):
            try:
                newest = max(newest, (Path(directory) / name).lstat().st_mtime)
            except OSError:
                continue
    return newest
