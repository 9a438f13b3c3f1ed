"""Each service process's own temp root, and the removal of roots that dead processes left behind.

Every ``tempfile.TemporaryDirectory`` a service makes lands in ``{tmp}/reelflow-{service}-{pid}``: when a worker is
killed before its ``with`` blocks can clean up, the next worker to start finds that root, sees its process is
gone, and removes it. Nothing is left in ``/tmp`` by a crash for longer than the next start.
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import structlog

log = structlog.get_logger("reelflow.scratch_space")
_ROOT_NAME = re.compile(r"^reelflow-[a-z]+-(\d+)$")


def _process_alive(pid: int) -> bool:
    """A live process, not a zombie, whose command line is a reelflow one (a pid may have been reused)."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, IndexError, PermissionError):
        return False
    return state != "Z" and b"reelflow" in command


def leftover_roots(base: Path, *, own_pid: int) -> list[Path]:
    """Temp roots under ``base`` of reelflow processes that are no longer running."""
    found = []
    for entry in base.iterdir() if base.is_dir() else ():
        match = _ROOT_NAME.match(entry.name)
        if match is None or not entry.is_dir():
            continue
        pid = int(match.group(1))
        if pid != own_pid and not _process_alive(pid):
            found.append(entry)
    return sorted(found)


def claim_scratch_space(service: str, base: Path | None = None) -> Path:
    """Give this process its own temp root (Python's ``tempfile`` then uses it) after removing dead ones'."""
    if base is None:
        current = Path(tempfile.gettempdir())
        base = current.parent if _ROOT_NAME.match(current.name) else current
    own_pid = os.getpid()
    for leftover in leftover_roots(base, own_pid=own_pid):
        shutil.rmtree(leftover, ignore_errors=True)
        log.info("removed a dead worker's temp folder", path=str(leftover))
    root = base / f"reelflow-{service}-{own_pid}"
    root.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(root)
    return root
