"""End to end: the benchmark lesson's text through a running stack, from REST to COMPLETED, step by step.

Run by :mod:`bench.render` (mode ``e2e``) as ``python -m bench.end_to_end``. It starts the embedded stack
(nats-server, the MongoDB-wire server, the S3 server and the six services) and waits until every service is
ready; that start-up is not timed. The timed part is what a user of ``reelflow render`` waits for once a
stack runs: the lesson is posted as text, its script written and approved, the render job requested, and
the job followed over server-sent events until it is COMPLETED. Each step's time is when its first
progress update arrived, up to the next step's; the job's own ``history`` (server time) gives its total.
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.lesson_manifest import BenchLesson, load_lesson
from reelflow.cli.render_client import sse_events
from reelflow.local.admin_credentials import throwaway_credentials
from reelflow.local.ports import free_port
from reelflow.local.servers import EmbeddedStack
from reelflow.local.workers import WorkerGroup

READY_TIMEOUT_SEC = 180.0
JOB_TIMEOUT_SEC = 600.0
SCRIPT_POLL_SEC = 0.05
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
SCRIPT_STEP = "WRITE_SCRIPT"  # before the render job exists: REST → script written → approved → job requested


@dataclass(frozen=True)
class StepTime:
    step: str
    started_sec: float  # since the lesson was posted
    duration_sec: float


@dataclass(frozen=True)
class EndToEndResult:
    total_sec: float  # lesson posted → job COMPLETED, on this client's clock
    job_total_sec: float  # the job's own history: QUEUED → COMPLETED, on the server's clock
    steps: tuple[StepTime, ...]
    status: str
    scenes: int
    video_duration_sec: float | None
    history: tuple[dict[str, Any], ...]

    def table(self) -> str:
        lines = [f"{'step':<20}{'starts at s':>12}{'takes s':>10}", "-" * 42]
        lines += [f"{step.step:<20}{step.started_sec:>12.2f}{step.duration_sec:>10.2f}" for step in self.steps]
        lines.append(f"{'total':<20}{'':>12}{self.total_sec:>10.2f}")
        return "\n".join(lines)


def lesson_markdown(lesson: BenchLesson) -> str:
    """The benchmark lesson as a user would paste it: one heading per chapter, one paragraph per scene."""
    blocks: list[str] = []
    chapter = None
    for scene in lesson.scenes:
        if scene.chapter_title != chapter:
            chapter = scene.chapter_title
            blocks.append(f"## {chapter}")
        blocks.append(scene.narration)
    return "\n\n".join(blocks) + "\n"


def step_times(seen: Sequence[tuple[float, str]], end_sec: float) -> list[StepTime]:
    """Each step from when it was first seen to when the next one was (the last one to ``end_sec``)."""
    firsts: dict[str, float] = {}
    for at, step in seen:
        firsts.setdefault(step, at)
    ordered = sorted(firsts.items(), key=lambda item: item[1])
    return [
        StepTime(step=step, started_sec=round(start, 3), duration_sec=round(following - start, 3))
        for (step, start), following in zip(ordered, [*(start for _, start in ordered[1:]), end_sec], strict=True)
    ]


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} → {response.status_code}: {response.text}"
        )
    return response


def render_through_gateway(http: httpx.Client, markdown: str, *, language: str) -> EndToEndResult:
    """The timed part: post, write, approve, render, follow to the end. ``http`` points at a ready gateway."""
    video_id = f"bench-{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    seen: list[tuple[float, str]] = [(0.0, SCRIPT_STEP)]
    body = {
        "source_text": markdown,
        "title": "What is phishing? (end-to-end benchmark)",
        "options": {"language": language},
    }
    script_id = _checked(http.post(f"/api/videos/{video_id}/scripts/generate", json=body)).json()["script_id"]
    while (response := http.get(f"/api/scripts/{script_id}")).status_code != 200:
        _checked(response)
        if time.monotonic() - started > JOB_TIMEOUT_SEC:
            raise RuntimeError(f"script {script_id} was not written in {JOB_TIMEOUT_SEC:.0f} s")
        time.sleep(SCRIPT_POLL_SEC)
    script = response.json()
    scenes = sum(len(chapter["scenes"]) for chapter in script["script"]["chapters"])
    _checked(http.post(f"/api/scripts/{script_id}/approve"))
    request = {"script_id": script_id, "size": "1280x720", "visual_style": "basic"}
    job_id = _checked(http.post(f"/api/videos/{video_id}/render-jobs", json=request)).json()["job"]["job_id"]
    status = "?"
    stream_timeout = httpx.Timeout(JOB_TIMEOUT_SEC, connect=5.0)
    with http.stream("GET", f"/api/render-jobs/{job_id}/events", timeout=stream_timeout) as stream:
        for event, update in sse_events(stream.iter_lines()):
            if update.get("step"):
                seen.append((time.monotonic() - started, str(update["step"])))
            if event == "status":
                status = str(update.get("status"))
                break
    total = time.monotonic() - started
    job = _checked(http.get(f"/api/render-jobs/{job_id}")).json()
    history = tuple(job.get("history", []))
    return EndToEndResult(
        total_sec=round(total, 3),
        job_total_sec=round(_history_span(history), 3),
        steps=tuple(step_times(seen, total)),
        status=status,
        scenes=scenes,
        video_duration_sec=job.get("duration_sec"),
        history=history,
    )


def _history_span(history: Sequence[dict[str, Any]]) -> float:
    if len(history) < 2:
        return 0.0
    first, last = (
        datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")) for entry in (history[0], history[-1])
    )
    return (last - first).total_seconds()


def run_end_to_end(markdown: str, *, language: str, data_dir: Path) -> EndToEndResult:
    """Start the embedded stack (untimed), render once through it (timed), stop it."""
    with EmbeddedStack(data_dir) as endpoints:
        port = free_port()
        gateway_url = f"http://127.0.0.1:{port}"
        credentials = throwaway_credentials()
        env = (
            endpoints.service_env()
            | {"REELFLOW_GATEWAY_HOST": "127.0.0.1", "REELFLOW_GATEWAY_PORT": str(port)}
            | credentials.gateway_env()
        )
        workers = WorkerGroup(env, data_dir / "logs")
        workers.start()
        try:
            workers.wait_ready(endpoints.nats_url, gateway_url, timeout_sec=READY_TIMEOUT_SEC)
            headers = {"Authorization": f"Bearer {credentials.api_key}"}
            with httpx.Client(base_url=gateway_url, headers=headers, timeout=REQUEST_TIMEOUT) as http:
                return render_through_gateway(http, markdown, language=language)
        finally:
            workers.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", type=Path, required=True, help="lesson.json from bench.lesson_inputs")
    parser.add_argument("--result", type=Path, required=True, help="where to write the result JSON")
    parser.add_argument("--data-dir", type=Path, help="the stack's data folder (default: a temporary one)")
    args = parser.parse_args(argv)
    lesson = load_lesson(args.manifest)
    markdown = lesson_markdown(lesson)
    with tempfile.TemporaryDirectory(prefix="reelflow-bench-e2e-") as tmp:
        result = run_end_to_end(markdown, language=lesson.language, data_dir=args.data_dir or Path(tmp))
    document = {**asdict(result), "table": result.table()}
    args.result.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    print(result.table())
    return 0 if result.status == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())
