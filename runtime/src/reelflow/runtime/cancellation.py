"""Per-job cancellation tokens: a canceled job's running subprocess is killed and its messages are dropped."""

import asyncio
from collections import OrderedDict

from reelflow.runtime.failures import JobCanceledError


class CancelToken:
    """Set once when a job is canceled; long-running work polls or awaits it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason = ""

    def cancel(self, reason: str = "canceled by request") -> None:
        self.reason = reason
        self._event.set()

    @property
    def is_canceled(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()

    def raise_if_canceled(self) -> None:
        if self.is_canceled:
            raise JobCanceledError(f"job was canceled: {self.reason}")


class CancellationRegistry:
    """Tokens by job_id. Remembers a bounded number of canceled jobs so late messages for them are dropped."""

    def __init__(self, remember: int = 10_000) -> None:
        self._tokens: OrderedDict[str, CancelToken] = OrderedDict()
        self._remember = remember

    def token_for(self, job_id: str) -> CancelToken:
        token = self._tokens.get(job_id)
        if token is None:
            token = CancelToken()
            self._tokens[job_id] = token
            while len(self._tokens) > self._remember:
                self._tokens.popitem(last=False)
        return token

    def cancel(self, job_id: str, reason: str = "canceled by request") -> None:
        self.token_for(job_id).cancel(reason)

    def is_canceled(self, job_id: str) -> bool:
        token = self._tokens.get(job_id)
        return token is not None and token.is_canceled
