"""What a real worker process writes and serves: every line on stderr (and stdout) is one JSON object, FastStream's
and uvicorn's lines and a traceback included, and ``GET /metrics`` shows the dead letters it produced and its
consumer's lag. It runs ``reelflow worker tts`` on servers of its own, so no other tts replica takes its messages."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from prometheus_client.parser import text_string_to_metric_families

from reelflow.contracts import STREAM_NAME, RenderRequested
from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack, StackEndpoints

pytestmark = pytest.mark.connected

READY_WITHIN_SEC = 90.0
EXIT_WITHIN_SEC = 40.0


@dataclass(frozen=True)
class WorkerRun:
    endpoints: StackEndpoints
    process: "subprocess.Popen[bytes]"
    health_url: str
    stdout: Path
    stderr: Path


def lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def tts_worker(tmp_path: Path) -> Iterator[WorkerRun]:
    with EmbeddedStack(tmp_path / "stack") as endpoints:
        port = free_port()
        env = os.environ | endpoints.service_env() | {"REELFLOW_HEALTH_PORT": str(port), "REELFLOW_LOG_FORMAT": "json"}
        stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [sys.executable, "-m", "reelflow.cli.main", "worker", "tts"], env=env, stdout=out, stderr=err
            )
        try:
            yield WorkerRun(endpoints, process, f"http://{LOOPBACK}:{port}", stdout, stderr)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


async def wait_ready(run: WorkerRun) -> None:
    deadline = time.monotonic() + READY_WITHIN_SEC
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            assert run.process.poll() is None, f"the worker exited:\n{run.stderr.read_text()}"
            try:
                if (await client.get(f"{run.health_url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"not ready:\n{run.stderr.read_text()}"
            await asyncio.sleep(0.25)


async def scrape(run: WorkerRun) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{run.health_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.timeout(240)
async def test_a_worker_logs_only_json_lines_and_serves_its_metrics(tts_worker: WorkerRun) -> None:
    await wait_ready(tts_worker)
    nc = await nats.connect(tts_worker.endpoints.nats_url, connect_timeout=5)
    try:
        js = nc.jetstream(timeout=10)
        # Two messages tts gives up on at once: one is not JSON, one is JSON but not a render request.
        await js.publish(RenderRequested.subject, b"{not json", stream=STREAM_NAME)
        await js.publish(RenderRequested.subject, json.dumps({"job_id": "j1", "spec": {}}).encode(), stream=STREAM_NAME)
        deadline = time.monotonic() + 30
        while True:
            info = await js.consumer_info(STREAM_NAME, "tts")
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            assert time.monotonic() < deadline, info
            await asyncio.sleep(0.2)
    finally:
        await nc.close()

    metrics = await scrape(tts_worker)
    assert metrics[("reelflow_dead_letters_total", frozenset({("step", "tts"), ("code", "INVALID_SCRIPT")}))] == 2
    rejected = frozenset({("step", "tts"), ("template", "none"), ("outcome", "rejected")})
    assert metrics[("reelflow_step_duration_seconds_count", rejected)] == 2
    assert metrics[("reelflow_consumer_pending_messages", frozenset({("step", "tts")}))] == 0
    assert metrics[("reelflow_messages_in_flight", frozenset({("step", "tts")}))] == 0

    tts_worker.process.send_signal(signal.SIGTERM)
    assert tts_worker.process.wait(timeout=EXIT_WITHIN_SEC) == 0

    assert lines_of(tts_worker.stdout) == [], "nothing may go to stdout"
    records: list[dict[str, Any]] = []
    for line in lines_of(tts_worker.stderr):
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    loggers = {record.get("logger") for record in records}
    assert {"faststream.broker", "uvicorn.error", "reelflow.service", "reelflow.delivery"} <= loggers, loggers
    assert all(record["service"] == "tts" and record["timestamp"] for record in records)
    tracebacks = [record["exception"] for record in records if "exception" in record]
    assert tracebacks and all(text.startswith("Traceback") for text in tracebacks), "a traceback is one field"
    assert not any("\x1b[" in line for line in lines_of(tts_worker.stderr)), "no terminal colour codes"
