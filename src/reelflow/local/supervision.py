"""Long-running child processes: one log file each, their own process group, a graceful stop."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from reelflow.runtime.parent_death import die_with_parent

LOG_TAIL_LINES = 40
_LOG_TAIL_MAX_BYTES = 64 * 1024


def read_log_tail(path: Path, *, start_offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of ``path`` written after ``start_offset`` ('' when there are none)."""
    try:
        with path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(start_offset, size - _LOG_TAIL_MAX_BYTES))
            data = log.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


class _SpawnGuard:
    """Whether the main thread is between a fork and the bookkeeping that remembers the child, and what to raise
    once it is not.

    Signal handlers run in the main thread between any two bytecodes. One that raises to stop everything (as
    ``reelflow up`` does on SIGTERM) must not land inside a spawn, where the child would run on unrecorded and outlive
    the stop.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.pending: BaseException | None = None


_spawn_guard = _SpawnGuard()


@contextlib.contextmanager
def spawning() -> Iterator[None]:
    """Around starting a child and recording it: a stop raised by a signal handler meanwhile is raised after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers never run here
        return
    _spawn_guard.depth += 1
    try:
        yield
    finally:
        _spawn_guard.depth -= 1
        if _spawn_guard.depth == 0 and _spawn_guard.pending is not None:
            pending, _spawn_guard.pending = _spawn_guard.pending, None
            raise pending


def raise_outside_spawns(error: BaseException) -> None:
    """For a signal handler: raise ``error`` now, or, if the main thread is starting a child, as soon as that child
    is recorded (see :func:`spawning`)."""
    if _spawn_guard.depth:
        _spawn_guard.pending = error
        return
    raise error


def describe_exit_code(code: int | None) -> str:
    """'exited with status N' or 'was killed by SIGNAME' (a negative code), for logs and error messages."""
    if code is None:
        return "is still running"
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with status {code}"


class SupervisedProcess(Protocol):
    """What a supervisor needs of a child: a command run as ``ChildProcess``, or a worker forked by the launcher."""

    name: str

    @property
    def command(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def returncode(self) -> int | None: ...

    def is_running(self) -> bool: ...

    def start(self) -> None: ...

    def send_signal(self, signum: signal.Signals) -> None: ...

    def wait_or_kill(self, deadline: float) -> None: ...

    def stop(self, grace_sec: float) -> None: ...

    def kill(self) -> None: ...

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str: ...

    def describe_exit(self) -> str: ...


class ChildProcess:
    """One command run in the background, its stdout and stderr appended to ``log_path``.

    The child leads its own session, so a Ctrl+C in the parent's terminal does not reach it: the parent
    decides the order things stop in. Signals go to the whole process group, so helpers the child
    spawned stop with it.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        log_path: Path,
        signal_on_parent_death: signal.Signals | None = None,
    ) -> None:
        self.name = name
        self.argv = tuple(argv)
        self.env = dict(env)
        self.log_path = log_path
        # Sent by the kernel when the thread that started the child dies (kill -9 of `reelflow up` included): only
        # for children started from a thread that lives as long as they should, the main thread of the CLI.
        self.signal_on_parent_death = signal_on_parent_death
        self._process: subprocess.Popen[bytes] | None = None
        self._log_offset = 0

    @property
    def command(self) -> str:
        """The exact command line, quoted so it can be pasted into a shell."""
        return shlex.join(self.argv)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended, else None (also before it was started)."""
        return None if self._process is None else self._process.poll()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Spawn the command; a banner line in the log marks where this run's output begins."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            banner = f"--- {datetime.now(UTC).isoformat(timespec='seconds')} starting: {self.command}\n"
            log.write(banner.encode())
            log.flush()
            with spawning():
                self._process = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    start_new_session=True,
                    preexec_fn=self._watch_parent(),
                )

    def _watch_parent(self) -> Callable[[], None] | None:
        if self.signal_on_parent_death is None:
            return None
        return die_with_parent(os.getpid(), self.signal_on_parent_death)

    def send_signal(self, signum: signal.Signals) -> None:
        """Signal the child's process group; a no-op once the child has ended."""
        if self._process is None or self._process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signum)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait until ``deadline`` (``time.monotonic()``) for the child to end, then SIGKILL its group."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Stragglers the child left in its group (it led the group, so the id is still theirs).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self, grace_sec: float) -> None:
        """SIGTERM, wait up to ``grace_sec``, then SIGKILL. Idempotent."""
        stop_all([self], grace_sec)

    def kill(self) -> None:
        """SIGKILL the group at once and reap the child, as a crash would."""
        self.send_signal(signal.SIGKILL)
        self.wait_or_kill(time.monotonic())

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The end of what the latest run wrote to its log."""
        return read_log_tail(self.log_path, start_offset=self._log_offset, lines=lines)

    def describe_exit(self) -> str:
        """'exited with status N' or 'was killed by SIGNAME', for error messages."""
        return describe_exit_code(self.returncode)


def stop_all(children: Iterable[SupervisedProcess], grace_sec: float) -> None:
    """Stop several children at once: SIGTERM to all, then one shared grace period, then SIGKILL."""
    running = [child for child in children if child.is_running()]
    for child in running:
        child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_sec
    for child in running:
        child.wait_or_kill(deadline)
