"""Keeping a compose step in bounds: its deadline, its progress across parallel FFmpeg runs, and their cleanup."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from reelflow.contracts import Step
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import StepTimeoutError

StepReporter = Callable[[Step, float], Awaitable[None]]
"""Called with a step and how far it is (0–1); the caller maps it onto the job's progress band."""


def raise_if_canceled(cancel: CancelToken | None) -> None:
    """Stop before starting more work when the job was canceled (no token: the caller cannot be canceled)."""
    if cancel is not None:
        cancel.raise_if_canceled()


@contextlib.asynccontextmanager
async def step_deadline(step: Step, seconds: float, cancel: CancelToken | None) -> AsyncIterator[None]:
    """Bound a whole step; subprocesses still running when it expires are killed by ``run_process``."""
    raise_if_canceled(cancel)
    timeout = asyncio.timeout(seconds)
    try:
        async with timeout:
            yield
    except TimeoutError as exc:
        if timeout.expired():
            raise StepTimeoutError(f"{step} did not finish within {seconds:g}s and was stopped") from exc
        raise


async def run_all_or_stop_all(jobs: Sequence[Awaitable[object]]) -> None:
    """Run ``jobs`` together; when one fails (or the step is canceled) the others are stopped and awaited,
    so no FFmpeg outlives the job. Pass a task rather than a coroutine to read its result afterwards."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class ProgressMeter:
    """Folds several runs' 0–1 fractions, weighted (by their length, say), into one span of one step's fraction.

    A run never moves backwards. With ``min_increase`` a report is only sent once the step has moved that
    much (or the span is complete), so many small FFmpeg progress lines do not flood the reporter.
    """

    def __init__(
        self,
        report: StepReporter,
        step: Step,
        weights: Sequence[float],
        span: tuple[float, float],
        *,
        min_increase: float = 0.0,
    ) -> None:
        self._report = report
        self._step = step
        self._weights = list(weights)
        self._total = sum(self._weights) or 1.0
        self._done = [0.0] * len(self._weights)
        self._span = span
        self._min_increase = min_increase
        self._last = span[0]

    async def update(self, index: int, fraction: float) -> None:
        self._done[index] = max(self._done[index], min(1.0, fraction))
        share = sum(w * d for w, d in zip(self._weights, self._done, strict=True)) / self._total
        low, high = self._span
        overall = low + (high - low) * share
        noticeable = overall - self._last >= self._min_increase or (share >= 1.0 and overall > self._last)
        if self._min_increase > 0 and not noticeable:
            return
        self._last = overall
        await self._report(self._step, overall)

    def reporter(self, index: int) -> Callable[[float], Awaitable[None]]:
        """The ``on_progress`` callback for run ``index``."""

        async def on_progress(fraction: float) -> None:
            await self.update(index, fraction)

        return on_progress
