"""Children that die with the process that started them (Linux ``PR_SET_PDEATHSIG``), kill -9 of the parent included.

Kept free of heavy imports: the CLI uses it for the servers and workers of `reelflow up` before anything else loads.
"""

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def _bind_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, looked up once here: the child calls it between fork and exec, where loading a library
    (and taking the loader's lock another thread of the worker may hold) is not safe."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


_PRCTL = _bind_prctl()


def die_with_parent(parent_pid: int, signum: signal.Signals = signal.SIGKILL) -> Callable[[], None] | None:
    """For ``preexec_fn``: the child asks the kernel for ``signum`` when the process that started it dies, kill -9
    included, so no FFmpeg or espeak-ng outlives its worker. None (no ``preexec_fn``) where there is no ``prctl``.

    - PR_SET_PDEATHSIG follows the *thread* that forked the child. asyncio forks from the event loop's thread, which
      outlives every child (``run_process`` always waits for or kills its child before it returns). Start a child
      this way only from a thread that lives as long as the child should.
    - It is kept this small because ``preexec_fn`` runs in the child of a worker that has other threads: one call
      into a function bound before the fork, and no imports, locks or allocation worth the name.
    - A parent that died before the call leaves the child reparented already; it then signals itself.
    """
    prctl = _PRCTL
    if prctl is None:
        return None

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signum)

    return in_child


def end_with_parent(signum: signal.Signals) -> None:
    """Ask the kernel for ``signum`` when this process's parent dies (Linux; elsewhere nothing happens)."""
    watch = die_with_parent(os.getppid(), signum)
    if watch is not None:
        watch()
