"""Starts service processes by forking a server that has already imported what every service imports.

A service process spends most of its start-up importing (FastStream, pydantic models, FastAPI, the OpenAI client …),
and six of them importing the same modules side by side on a small machine take many seconds. Here one fork server
(multiprocessing's ``forkserver``, a clean single-threaded process) imports the shared part once
(:mod:`reelflow.local.service_preload`), then forks a worker on request, which imports only its own service.

A forked worker is the same program as ``reelflow worker NAME``: it runs ``reelflow.cli.main.main(["worker", NAME])``
with the environment it was given. It leads its own session (signals to its group reach its FFmpeg children too),
writes stdout and stderr to its log, and is named ``rf-NAME`` in ``ps -o comm``/``top``/``pgrep``; ``ps aux`` shows
the fork server's command line instead of ``reelflow worker NAME``.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from multiprocessing.context import ForkServerProcess
from pathlib import Path

from reelflow.local.supervision import LOG_TAIL_LINES, describe_exit_code, read_log_tail, spawning
from reelflow.runtime.parent_death import end_with_parent

PRELOAD_MODULE = "reelflow.local.service_preload"
# Read by the preload in the launcher: "1" ties the launcher's life to its caller's (see ``warm_up``).
ENDS_WITH_PARENT_ENV = "REELFLOW_LAUNCHER_ENDS_WITH_PARENT"
_PR_SET_NAME = 15
_COMM_MAX_CHARS = 15  # the kernel keeps 16 bytes, the last one a NUL


def warm_up(*, ends_with_caller: bool = False) -> None:
    """Start the fork server now, so it imports what the services share while the caller does other work (servers …).

    Idempotent, and cheap after the first call; the first worker started waits for the imports to finish.
    ``ends_with_caller`` (the CLI, calling from its main thread before anything else) ties the launcher's life to the
    calling thread's: when it dies, even by kill -9, the launcher and then every worker get SIGTERM.
    """
    if ends_with_caller:
        os.environ[ENDS_WITH_PARENT_ENV] = "1"
    context = multiprocessing.get_context("forkserver")
    # multiprocessing also runs the caller's main module again in every child (as __mp_main__): for the `reelflow`
    # script or `python -m reelflow.cli.main` that is the CLI, which the preload has imported already.
    context.set_forkserver_preload([PRELOAD_MODULE])
    with spawning():
        multiprocessing.forkserver.ensure_running()


def process_name(service: str) -> str:
    """The ``comm`` a forked worker gets (what ``ps -o comm``, ``top`` and ``pgrep`` show): ``rf-compose`` …"""
    return f"rf-{service}"[:_COMM_MAX_CHARS]


class ForkedWorker:
    """One service process forked from the preloaded server, with the interface of ``ChildProcess``.

    ``start`` may be called again once the process has ended: a restart forks a fresh one.
    """

    def __init__(self, name: str, *, env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.env = dict(env)
        self.log_path = log_path
        self._process: ForkServerProcess | None = None
        self._log_offset = 0

    @property
    def command(self) -> str:
        return f"reelflow worker {self.name} (forked from the preloaded worker launcher)"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended (negative: killed by that signal), else None."""
        return None if self._process is None else self._process.exitcode

    def is_running(self) -> bool:
        return self._process is not None and self._process.exitcode is None

    def start(self) -> None:
        """Fork the worker; a banner line in the log marks where this run's output begins."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        warm_up()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} starting: {self.command}\n".encode())
        # Drop the ended process before closing it: a reader of ``pid`` or ``is_running`` in another thread (the
        # supervisor restarts from its own) then sees no process, never a closed one, which raises ValueError.
        previous, self._process = self._process, None
        if previous is not None:
            previous.close()
        context = multiprocessing.get_context("forkserver")
        # daemon: should this process exit without stopping its workers, multiprocessing SIGTERMs them at exit.
        process = context.Process(
            target=run_forked_worker,
            args=(self.name, self.env, str(self.log_path)),
            name=f"reelflow-{self.name}",
            daemon=True,
        )
        with spawning():
            process.start()
            self._process = process

    def send_signal(self, signum: signal.Signals) -> None:
        """Signal the worker's process group (the worker and its FFmpeg …); a no-op once it has ended."""
        pid = self.pid
        if pid is None or not self.is_running():
            return
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            # Not yet the leader of its own group (forked a moment ago): signal the process itself.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def wait_or_kill(self, deadline: float) -> None:
        """Wait until ``deadline`` (``time.monotonic()``) for the worker to end, then SIGKILL its group."""
        process = self._process
        if process is None or process.pid is None:
            return
        if process.exitcode is None:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.exitcode is None:
                self.send_signal(signal.SIGKILL)
                process.join()
        # Stragglers the worker left in its group (it led the group, so the id is still theirs).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self, grace_sec: float) -> None:
        """SIGTERM, wait up to ``grace_sec``, then SIGKILL. Idempotent."""
        self.send_signal(signal.SIGTERM)
        self.wait_or_kill(time.monotonic() + grace_sec)

    def kill(self) -> None:
        """SIGKILL the group at once and wait for the worker's end, as a crash would."""
        self.send_signal(signal.SIGKILL)
        self.wait_or_kill(time.monotonic())

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return read_log_tail(self.log_path, start_offset=self._log_offset, lines=lines)

    def describe_exit(self) -> str:
        return describe_exit_code(self.returncode)


def run_forked_worker(name: str, env: Mapping[str, str], log_path: str) -> None:
    """The forked child: become ``reelflow worker NAME`` with ``env``, its output appended to ``log_path``."""
    os.setsid()  # its own session: a Ctrl+C in the terminal does not reach it, and its group is its own
    # The launcher exits when whatever started it dies (kill -9 of `reelflow up` too); the worker then drains and stops.
    end_with_parent(signal.SIGTERM)
    _set_process_name(process_name(name))
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, sys.stdout.fileno())
    os.dup2(log_fd, sys.stderr.fileno())
    os.close(log_fd)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # As PYTHONUNBUFFERED would: a log tail shows what a worker printed right before it died.
            stream.reconfigure(line_buffering=True, write_through=True)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # computed again from this environment (TMPDIR), not the fork server's

    from reelflow.cli.main import main

    try:
        exit_code = main(["worker", name])
    finally:
        # multiprocessing ends a child with os._exit; run what a normal interpreter exit runs (span exporters …).
        atexit._run_exitfuncs()
    sys.exit(exit_code)


def _set_process_name(name: str) -> None:
    """Set this process's ``comm`` (Linux); elsewhere, or if it fails, the name stays the fork server's."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NAME, ctypes.c_char_p(name.encode()), 0, 0, 0)
