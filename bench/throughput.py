"""Throughput benchmark: jobs per minute for short lessons through the whole pipeline, with 1 and with 2 compose
replicas side by side, and the ratio.

Each configuration gets fresh servers (the embedded stack) and fresh service processes: one each of script, tts,
storage, uploader and the gateway, and N compose replicas sharing compose's durable consumer. The lessons' scripts
are written and approved first (not timed); then every render job is submitted at once and the clock runs until the
last one is COMPLETED. ``jobs per minute = jobs / wall time``.

Run ``scripts/bench.sh``-style: ``uv run python -m bench.throughput --help``. On a 2-core machine expect a ratio
near 1×: one compose replica already keeps both cores busy (``REELFLOW_COMPOSE_PARALLELISM`` defaults to the CPU
count), so a second one only adds overlap between one job's serial stretches and another's encodes.
"""

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from bench.machine_facts import load_average, machine_facts
from reelflow.local.admin_credentials import throwaway_credentials
from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack
from reelflow.local.supervision import ChildProcess, stop_all
from reelflow.local.workers import SERVICE_NAMES, WorkerGroup, worker_command
from reelflow.runtime.media_probe import probe_media
from reelflow.script.samples import sample_lesson

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_SCHEMA = "reelflow-throughput-bench/1"
LATEST_JSON = "throughput-latest.json"
COMPOSE = "compose"
READY_TIMEOUT_SEC = 180.0
SCRIPT_TIMEOUT_SEC = 120.0
STOP_GRACE_SEC = 25.0
POLL_SEC = 0.5
HTTP_TIMEOUT_SEC = 30.0


class ThroughputBenchError(RuntimeError):
    """A configuration could not be measured (a service did not start, a job failed); the message says why."""


@dataclass(frozen=True)
class ThroughputOptions:
    jobs: int
    compose_replicas: tuple[int, ...]
    language: str
    size: str
    fps: int
    job_timeout_sec: float
    out_dir: Path
    cache_dir: Path


@dataclass(frozen=True)
class ThroughputRun:
    """One configuration: ``jobs`` lessons rendered by ``compose_replicas`` compose replicas."""

    compose_replicas: int
    jobs: int
    wall_sec: float
    jobs_per_minute: float
    job_latency_mean_sec: float
    job_latency_max_sec: float
    video_sec_per_job: float
    load_average_before: tuple[float, float, float]
    load_average_after: tuple[float, float, float]


def parse_options(argv: Sequence[str] | None = None) -> ThroughputOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6, help="lessons rendered per configuration (default 6)")
    parser.add_argument("--replicas", default="1,2", help="compose replica counts to compare (default 1,2)")
    parser.add_argument("--language", default="en", help="the bundled sample lesson's language: en or ko")
    parser.add_argument("--size", default="1280x720", help="frame size (default 1280x720)")
    parser.add_argument("--fps", type=int, default=30, help="frames per second (default 30)")
    parser.add_argument("--job-timeout-min", type=float, default=30.0, help="give up on a configuration after this")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="results folder (JSON)")
    parser.add_argument("--cache", type=Path, default=BENCH_DIR / ".cache", help="servers' data and service logs")
    args = parser.parse_args(argv)
    replicas = tuple(int(part) for part in args.replicas.split(",") if part.strip())
    if args.jobs < 1 or not replicas or min(replicas) < 1:
        parser.error("--jobs and every --replicas count must be at least 1")
    return ThroughputOptions(
        jobs=args.jobs,
        compose_replicas=replicas,
        language=args.language,
        size=args.size,
        fps=args.fps,
        job_timeout_sec=args.job_timeout_min * 60,
        out_dir=args.out,
        cache_dir=args.cache,
    )


class BenchPipeline:
    """Fresh servers and services for one configuration: one of each service but compose, ``compose_replicas``
    compose processes, all under ``work_dir`` (servers' data, one log per process)."""

    def __init__(self, work_dir: Path, compose_replicas: int) -> None:
        self.work_dir = work_dir
        self.stack = EmbeddedStack(work_dir / "stack")
        self.gateway_url = ""
        self.credentials = throwaway_credentials()
        self._workers: WorkerGroup | None = None
        self._compose: list[tuple[ChildProcess, str]] = []
        self._compose_replicas = compose_replicas

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _start(self) -> None:
        endpoints = self.stack.start()
        gateway_port = free_port()
        self.gateway_url = f"http://{LOOPBACK}:{gateway_port}"
        env = endpoints.service_env() | {"REELFLOW_GATEWAY_PORT": str(gateway_port)} | self.credentials.gateway_env()
        log_dir = self.work_dir / "logs"
        others = [name for name in SERVICE_NAMES if name != COMPOSE]
        self._workers = WorkerGroup(env, log_dir, services=others)
        self._workers.start()
        for index in range(self._compose_replicas):
            port = free_port()
            process = ChildProcess(
                f"{COMPOSE}-{index}",
                worker_command(COMPOSE),
                env=self._workers.env | {"REELFLOW_HEALTH_PORT": str(port)},
                log_path=log_dir / f"{COMPOSE}-{index}.log",
            )
            process.start()
            self._compose.append((process, f"http://{LOOPBACK}:{port}/readyz"))
        self._workers.wait_ready(endpoints.nats_url, self.gateway_url, timeout_sec=READY_TIMEOUT_SEC)
        self._wait_compose_ready()

    def _wait_compose_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SEC
        waiting = list(self._compose)
        while waiting:
            for process, url in list(waiting):
                if not process.is_running():
                    raise ThroughputBenchError(f"{process.name} {process.describe_exit()}:\n{process.log_tail()}")
                try:
                    if httpx.get(url, timeout=2).status_code == httpx.codes.OK:
                        waiting.remove((process, url))
                except httpx.HTTPError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise ThroughputBenchError(f"compose replicas not ready: {[process.name for process, _ in waiting]}")
            time.sleep(0.25)

    def stop(self) -> None:
        stop_all((process for process, _ in self._compose), STOP_GRACE_SEC)
        if self._workers is not None:
            self._workers.stop()
        self.stack.stop()


async def approved_script(client: httpx.AsyncClient, video_id: str, lesson: str, language: str) -> str:
    response = await client.post(
        f"/api/videos/{video_id}/scripts/generate", json={"source_text": lesson, "options": {"language": language}}
    )
    response.raise_for_status()
    script_id: str = response.json()["script_id"]
    deadline = time.monotonic() + SCRIPT_TIMEOUT_SEC
    while (response := await client.get(f"/api/scripts/{script_id}")).status_code == httpx.codes.ACCEPTED:
        if time.monotonic() > deadline:
            raise ThroughputBenchError(f"script {script_id} was not written within {SCRIPT_TIMEOUT_SEC:g} s")
        await asyncio.sleep(0.2)
    response.raise_for_status()
    (await client.post(f"/api/scripts/{script_id}/approve")).raise_for_status()
    return script_id


async def wait_completed(client: httpx.AsyncClient, job_id: str, deadline: float) -> dict[str, Any]:
    while True:
        response = await client.get(f"/api/render-jobs/{job_id}")
        response.raise_for_status()
        job: dict[str, Any] = response.json()
        if job["status"] == "COMPLETED":
            return job
        if job["status"] in ("FAILED", "CANCELED"):
            raise ThroughputBenchError(f"job {job_id} ended {job['status']}: {job.get('error')}")
        if time.monotonic() > deadline:
            raise ThroughputBenchError(f"job {job_id} still {job['status']} at the deadline")
        await asyncio.sleep(POLL_SEC)


async def video_seconds(client: httpx.AsyncClient, job_id: str, scratch: Path) -> float:
    """The rendered video's duration, by ffprobe on the downloaded file."""
    response = await client.get(f"/api/assets/{job_id}/video", follow_redirects=True)
    response.raise_for_status()
    path = scratch / f"{job_id}.mp4"
    path.write_bytes(response.content)
    return (await probe_media(path)).duration_sec


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


async def measure(pipeline: BenchPipeline, options: ThroughputOptions, compose_replicas: int) -> ThroughputRun:
    lesson = sample_lesson(options.language)
    render = {"size": options.size, "fps": options.fps}
    headers = {"Authorization": f"Bearer {pipeline.credentials.api_key}"}
    async with httpx.AsyncClient(base_url=pipeline.gateway_url, headers=headers, timeout=HTTP_TIMEOUT_SEC) as client:
        videos = [f"throughput-{compose_replicas}-{index}" for index in range(options.jobs)]
        scripts = [await approved_script(client, video, lesson, options.language) for video in videos]
        load_before = load_average()
        started = time.monotonic()
        job_ids = []
        for video, script_id in zip(videos, scripts, strict=True):
            created = await client.post(f"/api/videos/{video}/render-jobs", json={"script_id": script_id, **render})
            created.raise_for_status()
            job_ids.append(created.json()["job"]["job_id"])
        deadline = started + options.job_timeout_sec
        jobs = await asyncio.gather(*(wait_completed(client, job_id, deadline) for job_id in job_ids))
        wall = time.monotonic() - started
        load_after = load_average()
        with tempfile.TemporaryDirectory() as scratch:
            duration = await video_seconds(client, job_ids[0], Path(scratch))
    latencies = [seconds_between(job["created_at"], job["updated_at"]) for job in jobs]
    return ThroughputRun(
        compose_replicas=compose_replicas,
        jobs=options.jobs,
        wall_sec=round(wall, 2),
        jobs_per_minute=round(options.jobs / wall * 60, 3),
        job_latency_mean_sec=round(statistics.fmean(latencies), 2),
        job_latency_max_sec=round(max(latencies), 2),
        video_sec_per_job=round(duration, 2),
        load_average_before=load_before,
        load_average_after=load_after,
    )


def results_table(runs: Sequence[ThroughputRun]) -> str:
    header = "compose replicas | jobs | wall s | jobs/min | jobs/hour | job latency mean / max s | video s/job"
    lines = [header, "-" * len(header)]
    for run in runs:
        lines.append(
            f"{run.compose_replicas:>16} | {run.jobs:>4} | {run.wall_sec:>6.1f} | {run.jobs_per_minute:>8.2f} | "
            f"{run.jobs_per_minute * 60:>9.1f} | {run.job_latency_mean_sec:>10.1f} / {run.job_latency_max_sec:<8.1f}"
            f"   | {run.video_sec_per_job:>6.1f}"
        )
    return "\n".join(lines)


def throughput_ratios(runs: Sequence[ThroughputRun]) -> dict[str, float]:
    """Each configuration's jobs per minute over the first (fewest replicas) one's, e.g. ``{"2/1": 1.04}``."""
    base = runs[0]
    return {
        f"{run.compose_replicas}/{base.compose_replicas}": round(run.jobs_per_minute / base.jobs_per_minute, 3)
        for run in runs[1:]
    }


def write_report(options: ThroughputOptions, runs: Sequence[ThroughputRun], command: Sequence[str]) -> Path:
    report = {
        "schema": RESULTS_SCHEMA,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command),
        "machine": machine_facts(),
        "lesson": {"sample_language": options.language, "size": options.size, "fps": options.fps},
        "runs": [asdict(run) for run in runs],
        "ratios_jobs_per_minute": throughput_ratios(runs),
    }
    options.out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    stamped = options.out_dir / f"throughput-{stamp}.json"
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    stamped.write_text(text, encoding="utf-8")
    (options.out_dir / LATEST_JSON).write_text(text, encoding="utf-8")
    return stamped


def run_bench(options: ThroughputOptions, command: Sequence[str]) -> list[ThroughputRun]:
    runs = []
    for compose_replicas in options.compose_replicas:
        work_dir = options.cache_dir / "throughput" / f"compose-{compose_replicas}"
        shutil.rmtree(work_dir, ignore_errors=True)  # fresh servers: no stream or database left from a past run
        print(f"[{compose_replicas} compose] starting servers and services (logs: {work_dir / 'logs'}) ...", flush=True)
        with BenchPipeline(work_dir, compose_replicas) as pipeline:
            print(f"[{compose_replicas} compose] rendering {options.jobs} lessons ...", flush=True)
            run = asyncio.run(measure(pipeline, options, compose_replicas))
        print(f"[{compose_replicas} compose] {run.jobs_per_minute:.2f} jobs/min", flush=True)
        runs.append(run)
    print()
    print(results_table(runs))
    for name, ratio in throughput_ratios(runs).items():
        print(f"ratio {name} compose replicas: {ratio:.2f}x jobs per minute")
    print(f"\nresults: {write_report(options, runs, command)}")
    return runs


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    command = ["python", "-m", "bench.throughput", *(argv if argv is not None else sys.argv[1:])]
    try:
        run_bench(options, command)
    except ThroughputBenchError as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
