"""Restarting services that die: a capped exponential backoff, and the thread that watches and restarts them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from reelflow.local.supervision import SupervisedProcess

log = logging.getLogger("reelflow.local.restarts")


@dataclass(frozen=True)
class RestartPolicy:
    """Wait ``first_delay_sec`` before the first restart, doubling up to ``max_delay_sec``; a service that then
    runs ``healthy_after_sec`` without dying starts again from the first delay."""

    first_delay_sec: float = 1.0
    max_delay_sec: float = 30.0
    healthy_after_sec: float = 60.0

    def delay_after(self, consecutive_deaths: int) -> float:
        """The wait before restarting a service that has died ``consecutive_deaths`` times in a row (≥ 1)."""
        return min(self.max_delay_sec, self.first_delay_sec * 2.0 ** max(0, consecutive_deaths - 1))


@dataclass
class _Watch:
    deaths: int = 0
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None


class RestartSupervisor:
    """A daemon thread that restarts any child of ``children`` that exits, following ``policy``.

    ``lock`` is the group's own: a deliberate stop or restart holds it, so the supervisor never races one.
    ``on_restart(name, how_it_exited, delay_sec)`` is called for every restart it schedules.
    """

    def __init__(
        self,
        children: Mapping[str, SupervisedProcess],
        lock: threading.RLock,
        *,
        policy: RestartPolicy | None = None,
        on_restart: Callable[[str, str, float], None] | None = None,
        poll_sec: float = 0.2,
    ) -> None:
        self._children = children
        self._lock = lock
        self._policy = policy or RestartPolicy()
        self._on_restart = on_restart
        self._poll_sec = poll_sec
        self._watches = {name: _Watch() for name in children}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reelflow-restarts", daemon=True)
        self.restarts: dict[str, int] = dict.fromkeys(children, 0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the group stops its children, so they are not restarted on the way down)."""
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def forget_deaths(self, name: str) -> None:
        """A deliberate restart: the next death of ``name`` counts as its first."""
        self._watches[name] = _Watch()

    def _run(self) -> None:
        while not self._stopped.wait(self._poll_sec):
            with self._lock:
                if self._stopped.is_set():
                    return
                for name, child in self._children.items():
                    self._look_after(name, child, time.monotonic())

    def _look_after(self, name: str, child: SupervisedProcess, now: float) -> None:
        watch = self._watches[name]
        if child.is_running():
            if watch.deaths and now - watch.started_at >= self._policy.healthy_after_sec:
                watch.deaths = 0
            return
        if watch.restart_at is None:
            watch.deaths += 1
            delay = self._policy.delay_after(watch.deaths)
            watch.restart_at = now + delay
            how = child.describe_exit()
            log.warning("service %s %s; restarting it in %g s", name, how, delay)
            if self._on_restart is not None:
                self._on_restart(name, how, delay)
            return
        if now >= watch.restart_at:
            child.wait_or_kill(now)  # reaps it, and SIGKILLs anything it left in its process group
            child.start()
            watch.restart_at = None
            watch.started_at = now
            self.restarts[name] += 1
            log.warning("service %s restarted (pid %s)", name, child.pid)
