"""The one subprocess runner: FFmpeg progress lines, exit codes, timeouts and cancellation."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reelflow.contracts import ErrorCode
from reelflow.runtime.cancellation import CancellationRegistry, CancelToken
from reelflow.runtime.failures import JobCanceledError, RenderError, StepTimeoutError, TtsError
from reelflow.runtime.processes import STDERR_TAIL_CHARS, parse_progress_seconds, run_process


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("out_time_us=1500000", 1.5),
        ("out_time_ms=2000000", 2.0),  # FFmpeg's out_time_ms is in microseconds too
        ("out_time_us=1000000\n", 1.0),
        ("  out_time_us=250000  ", 0.25),
        ("out_time_us=0", 0.0),
        ("out_time_us=-9223372036854775807", 0.0),
    ],
)
def test_progress_lines_give_seconds_written(line: str, seconds: float) -> None:
    assert parse_progress_seconds(line) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "line",
    ["out_time=00:00:01.500000", "out_time_us=N/A", "progress=continue", "frame=42", "", "out_time_us=", "garbage"],
)
def test_other_lines_are_not_progress(line: str) -> None:
    assert parse_progress_seconds(line) is None


async def test_a_successful_command_returns_its_output() -> None:
    result = await run_process(["sh", "-c", "printf hello; printf warn >&2"], timeout_sec=5)
    assert result.returncode == 0
    assert result.stdout == b"hello"
    assert result.stderr == "warn"
    assert result.args == ("sh", "-c", "printf hello; printf warn >&2")
    assert result.elapsed_sec >= 0


async def test_stdin_is_fed_to_the_command() -> None:
    result = await run_process(["cat"], timeout_sec=5, stdin="안녕하세요".encode())
    assert result.stdout.decode() == "안녕하세요"


async def test_a_failing_command_raises_with_the_stderr_tail() -> None:
    with pytest.raises(RenderError) as caught:
        await run_process(["sh", "-c", "echo 'Invalid data found when processing input' >&2; exit 3"], timeout_sec=5)
    assert "exited with code 3" in str(caught.value)
    assert "Invalid data found when processing input" in str(caught.value)
    assert caught.value.details["returncode"] == 3
    assert caught.value.retryable is False


async def test_the_failure_type_can_be_chosen_and_long_stderr_is_cut() -> None:
    script = f"head -c {STDERR_TAIL_CHARS * 3} /dev/zero | tr '\\0' x >&2; echo END >&2; exit 1"
    with pytest.raises(TtsError) as caught:
        await run_process(["sh", "-c", script], timeout_sec=5, error=TtsError)
    assert caught.value.to_info().code == ErrorCode.TTS_FAILED
    assert caught.value.message.endswith("END")
    assert len(caught.value.message) < STDERR_TAIL_CHARS + 100


async def test_ffmpeg_progress_is_reported_as_fractions() -> None:
    fractions: list[float] = []

    async def on_progress(fraction: float) -> None:
        fractions.append(fraction)

    lines = "frame=1\\nout_time_us=500000\\nprogress=continue\\nout_time_ms=1000000\\nout_time_us=4000000\\n"
    await run_process(
        ["sh", "-c", f"printf '{lines}'"], timeout_sec=5, expected_duration_sec=2.0, on_progress=on_progress
    )
    assert fractions == [0.25, 0.5, 1.0]


async def test_a_command_past_its_timeout_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(StepTimeoutError) as caught:
        await run_process(["sleep", "5"], timeout_sec=0.2)
    assert time.monotonic() - started < 2
    assert "sleep did not finish within 0.2s" in str(caught.value)
    assert caught.value.retryable is True


async def test_canceling_the_job_stops_the_command() -> None:
    token = CancelToken()
    asyncio.get_running_loop().call_later(0.1, token.cancel, "user pressed cancel")
    started = time.monotonic()
    with pytest.raises(JobCanceledError, match="canceled"):
        await run_process(["sleep", "5"], timeout_sec=30, cancel=token)
    assert time.monotonic() - started < 2


async def test_an_already_canceled_attempt_does_not_start_the_command() -> None:
    registry = CancellationRegistry()
    with registry.running("job-1", 1) as token:
        assert registry.cancel("job-1", 1, "user pressed cancel")
        with pytest.raises(JobCanceledError, match="user pressed cancel"):
            await run_process(["sleep", "5"], timeout_sec=30, cancel=registry.token_for("job-1", 1))
        assert token.is_canceled


async def test_a_missing_program_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        await run_process(["reelflow-no-such-program"], timeout_sec=5)


def test_a_cancel_stops_only_that_attempt_and_is_not_remembered_after_it() -> None:
    registry = CancellationRegistry()
    assert not registry.cancel("job-1", 1), "nothing of the attempt runs here"
    with registry.running("job-1", 1) as first, registry.running("job-1", 2) as retry:
        assert registry.cancel("job-1", 1)
        assert first.is_canceled
        assert not retry.is_canceled
    with registry.running("job-1", 1) as again:
        assert not again.is_canceled, "a canceled attempt is not remembered once its step ended"
    assert not registry.token_for("job-9", 1).is_canceled


async def test_a_child_that_quits_before_reading_its_input_reports_its_own_error() -> None:
    """The pipe breaks (the child never reads 4 MiB), but the failure is the child's exit and stderr, every time."""
    with pytest.raises(TtsError, match="no voice named xx-unknown") as caught:
        await run_process(
            ["sh", "-c", "echo 'no voice named xx-unknown' >&2; exit 1"],
            timeout_sec=10,
            stdin=b"x" * (4 * 1024 * 1024),
            error=TtsError,
        )
    assert caught.value.details["returncode"] == 1


def test_a_child_dies_when_the_worker_that_started_it_is_killed() -> None:
    """SIGKILL leaves a worker no chance to clean up; the kernel still stops the child it started."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import asyncio, pathlib\n"
            "from reelflow.runtime.processes import run_process\n"
            "asyncio.run(run_process(['sleep', '60'], timeout_sec=120))\n",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        child = None
        while child is None and time.monotonic() < deadline:
            children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
            child = int(children[0]) if children else None
            time.sleep(0.05)
        assert child is not None, "the worker never started its child"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _is_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _is_alive(child), "the child outlived its killed worker"
    finally:
        if worker.poll() is None:
            worker.kill()


def _is_alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


async def test_stdin_can_stream_chunks_as_they_are_made() -> None:
    def chunks() -> Iterator[bytes | memoryview]:
        for index in range(3):
            yield memoryview(bytes([65 + index]) * (1536 * 1024))  # larger than the widened 1 MiB pipe

    result = await run_process(["wc", "-c"], timeout_sec=10, stdin=chunks())
    assert result.stdout.decode().strip() == str(3 * 1536 * 1024)


async def test_a_failing_stream_stops_the_command_and_raises_its_error() -> None:
    def chunks() -> Iterator[bytes | memoryview]:
        yield b"first"
        raise RuntimeError("the frame could not be drawn")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="could not be drawn"):
        await run_process(["sleep", "30"], timeout_sec=20, stdin=chunks())
    assert time.monotonic() - started < 10  # the sleeping command was killed, not waited for


class EndlessStream:
    """Chunks for ever, noting when its consumer let go of it (a generator's ``finally``)."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.written = 0

    def chunks(self) -> Iterator[bytes | memoryview]:
        try:
            while True:
                self.written += 1
                yield b"x" * (256 * 1024)
        finally:
            self.released.set()


async def test_a_command_that_stops_reading_ends_the_stream_and_reports_its_own_exit() -> None:
    stream = EndlessStream()
    with pytest.raises(RenderError, match="code 3"):
        await run_process(["sh", "-c", "head -c 1000 > /dev/null; exit 3"], timeout_sec=20, stdin=stream.chunks())
    assert await asyncio.to_thread(stream.released.wait, 10), "the writer kept drawing for a reader that had quit"


async def test_a_stream_into_a_command_past_its_timeout_stops_with_it() -> None:
    stream = EndlessStream()
    with pytest.raises(StepTimeoutError):
        await run_process(["sleep", "30"], timeout_sec=1, stdin=stream.chunks())
    assert await asyncio.to_thread(stream.released.wait, 10), "the writer was left blocked on a killed reader"
    assert stream.written < 50  # it stopped at the full pipe, not after drawing without end
