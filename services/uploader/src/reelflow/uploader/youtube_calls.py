"""Every call to Google goes through :class:`YouTubeCalls`: off the event loop, retried with backoff while the
failure is transient, and turned into a :class:`PublishError` that says whether a redelivery could help.

The client library is blocking (httplib2), so each call runs in a worker thread; its socket timeout bounds every
HTTP exchange, and the retry policy bounds how long one step keeps trying before the bus takes over.
"""

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import structlog

from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import PublishError
from reelflow.uploader.settings import UploaderSettings
from reelflow.uploader.youtube_errors import describe, is_transient, publish_error

log = structlog.get_logger("reelflow.uploader.youtube")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """``tries`` in all per call; the wait before try n+1 is ``first_delay_sec * 2**(n-1)``, capped, with jitter."""

    tries: int = 5
    first_delay_sec: float = 1.0
    max_delay_sec: float = 30.0

    @classmethod
    def from_settings(cls, settings: UploaderSettings) -> "RetryPolicy":
        return cls(
            tries=settings.youtube_call_tries,
            first_delay_sec=settings.youtube_retry_first_delay_sec,
            max_delay_sec=settings.youtube_retry_max_delay_sec,
        )

    def delay_after(self, tries_done: int) -> float:
        ceiling = min(self.max_delay_sec, self.first_delay_sec * 2.0 ** (tries_done - 1))
        return ceiling * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography


class YouTubeCalls:
    """Runs one job's calls to Google under one retry policy and the job attempt's cancel token."""

    def __init__(self, policy: RetryPolicy, cancel: CancelToken) -> None:
        self._policy = policy
        self._cancel = cancel

    async def call(self, what: str, call: Callable[[], T]) -> T:
        """``call()`` in a thread. Transient failures are retried; the last one, or any other, raises
        :class:`PublishError` (retryable when a later delivery could succeed)."""
        tries = 0
        while True:
            self._cancel.raise_if_canceled()
            tries += 1
            try:
                return await asyncio.to_thread(call)
            except PublishError:
                raise
            except Exception as error:
                transient = is_transient(error)
                if not transient or tries >= self._policy.tries:
                    raise publish_error(what, error, now=datetime.now(UTC), tries=tries) from error
                delay = self._policy.delay_after(tries)
                log.warning(
                    "YouTube call failed; trying again",
                    what=what,
                    error=describe(error),
                    tries=tries,
                    retry_in_sec=round(delay, 2),
                )
                await asyncio.sleep(delay)
