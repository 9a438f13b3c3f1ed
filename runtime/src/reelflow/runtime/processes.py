"""The one subprocess runner: timeout, cancellation, FFmpeg ``-progress`` parsing and stderr capture."""

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, ReelflowError, RenderError, StepTimeoutError
from reelflow.runtime.parent_death import die_with_parent

ProgressCallback = Callable[[float], Awaitable[None]]
STDERR_TAIL_CHARS = 4000


@dataclass(frozen=True)
class ProcessResult:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: str
    elapsed_sec: float


def parse_progress_seconds(line: str) -> float | None:
    """Seconds of output written, from one FFmpeg ``-progress`` line (``out_time_us=…`` or ``out_time_ms=…``)."""
    key, _, value = line.strip().partition("=")
    if key in ("out_time_us", "out_time_ms") and value.strip().lstrip("-").isdigit():
        # FFmpeg reports out_time_ms in microseconds too (a long-standing naming quirk).
        return max(0.0, int(value) / 1_000_000)
    return None


async def run_process(
    args: Sequence[str],
    *,
    timeout_sec: float,
    cancel: CancelToken | None = None,
    expected_duration_sec: float | None = None,
    on_progress: ProgressCallback | None = None,
    stdin: bytes | Iterable[bytes | memoryview] | None = None,
    error: type[ReelflowError] = RenderError,
) -> ProcessResult:
    """Run ``args`` to completion or raise.

    - non-zero exit → ``error`` with the stderr tail;
    - ``timeout_sec`` exceeded → :class:`StepTimeoutError` (the process is killed);
    - ``cancel`` set → :class:`JobCanceledError` (the process is killed).

    When ``on_progress`` and ``expected_duration_sec`` are given, the command must write FFmpeg
    ``-progress pipe:1`` output on stdout; each update reports a 0–1 fraction. ``stdin`` is written to the
    process whole, or chunk by chunk as an iterable yields them (e.g. raw frames as they are drawn): the iterable
    is run on a worker thread that writes each chunk to a pipe of its own with blocking writes, so making the
    next chunk overlaps the process reading this one, with no event-loop round trip or copy per chunk.
    """
    if cancel is not None:
        cancel.raise_if_canceled()
    started = time.monotonic()
    streamed = stdin if stdin is not None and not isinstance(stdin, bytes) else None
    stream_read, stream_write = os.pipe() if streamed is not None else (-1, -1)
    if streamed is not None:
        child_stdin = stream_read
    else:
        child_stdin = asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=child_stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=die_with_parent(os.getpid()),
        )
    except BaseException:
        if streamed is not None:
            os.close(stream_write)
        raise
    finally:
        if streamed is not None:
            os.close(stream_read)  # the child holds its copy; ours would keep the pipe open after it quits
    # Handed to a worker thread at once (not when complete() first runs), so the writer, which closes its end of
    # the pipe, always starts, however early the run is stopped.
    writer = (
        asyncio.get_running_loop().run_in_executor(None, _write_stream, stream_write, streamed)
        if streamed is not None
        else None
    )
    stdout_chunks: list[bytes] = []
    stderr_chunks: list[bytes] = []

    async def read_stdout() -> None:
        if process.stdout is None:
            return
        if on_progress is None or not expected_duration_sec:
            stdout_chunks.append(await process.stdout.read())
            return
        async for raw in process.stdout:
            seconds = parse_progress_seconds(raw.decode(errors="replace"))
            if seconds is not None:
                await on_progress(min(1.0, seconds / expected_duration_sec))

    async def read_stderr() -> None:
        if process.stderr is None:
            return
        stderr_chunks.append(await process.stderr.read())

    async def feed_stdin() -> None:
        if writer is not None:
            await writer
            return
        if not isinstance(stdin, bytes) or process.stdin is None:
            return
        try:
            process.stdin.write(stdin)
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            # The child quit before reading everything (e.g. espeak-ng refusing an unknown voice): its exit
            # code and stderr say why, so let the wait below report that instead of the pipe.
            pass
        finally:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                process.stdin.close()

    async def complete() -> int:
        await asyncio.gather(read_stdout(), read_stderr(), feed_stdin())
        return await process.wait()

    completion = asyncio.ensure_future(complete())
    waiters: set[asyncio.Future[object]] = {completion}  # type: ignore[arg-type]
    cancel_wait: asyncio.Future[None] | None = None
    if cancel is not None:
        cancel_wait = asyncio.ensure_future(cancel.wait())
        waiters.add(cancel_wait)  # type: ignore[arg-type]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout_sec, return_when=asyncio.FIRST_COMPLETED)
        if completion not in done:
            _kill(process)
            await _reap(process)
            completion.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await completion
            name = args[0]
            if cancel_wait is not None and cancel_wait in done:
                raise JobCanceledError(f"{name} was stopped because the job was canceled")
            raise StepTimeoutError(f"{name} did not finish within {timeout_sec:g}s and was stopped")
    except asyncio.CancelledError:
        # The caller gave up on us (e.g. a sibling encode failed): kill and reap the child before going, so no
        # FFmpeg outlives the job and no transport is left for the event loop's finalizer.
        _kill(process)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(_reap(process))
        completion.cancel()
        raise
    finally:
        if cancel_wait is not None:
            cancel_wait.cancel()
    if completion.exception() is not None:
        # Feeding stdin failed (its iterable raised): stop the child rather than leave it reading a closed pipe.
        _kill(process)
        await _reap(process)
    returncode = completion.result()
    stderr = b"".join(stderr_chunks).decode(errors="replace")
    result = ProcessResult(
        args=tuple(args),
        returncode=returncode,
        stdout=b"".join(stdout_chunks),
        stderr=stderr,
        elapsed_sec=time.monotonic() - started,
    )
    if returncode != 0:
        raise error(
            f"{args[0]} exited with code {returncode}: {stderr[-STDERR_TAIL_CHARS:].strip()}",
            details={"args": list(args)[:40], "returncode": returncode},
        )
    return result


# Linux's largest pipe without privileges (fs.pipe-max-size): a 64 KiB pipe takes a raw 720p frame (1.4 MB) in
# more than twenty writes, each a wake-up of the writer and of the reader; at 1 MiB it takes two.
STREAMED_PIPE_BYTES = 1 << 20


def _write_stream(fd: int, chunks: Iterable[bytes | memoryview]) -> None:
    """Write every chunk to the pipe ``fd`` (blocking), then close it so the reader sees the end.

    A reader that quits early (it failed, or was killed on a timeout or cancel) ends the writing with no error
    of its own: its exit status tells what happened. An error of the iterable itself is raised.
    """
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, STREAMED_PIPE_BYTES)  # a smaller pipe only costs more wake-ups
    try:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                view = view[os.write(fd, view) :]
    except BrokenPipeError:
        pass
    finally:
        os.close(fd)


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Wait for a killed child so it is not left for the event loop's finalizer."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(process.wait(), timeout=5)
