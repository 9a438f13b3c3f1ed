"""Drives one lesson through a running gateway: script → approve → render → live progress → download."""

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

SCRIPT_WAIT_SEC = 120.0
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
STEP_LABELS = {
    "VALIDATE_SCRIPT": "checking script",
    "GENERATE_TTS": "narrating",
    "GENERATE_SUBTITLE": "subtitles",
    "RENDER_SLIDES": "drawing slides",
    "COMPOSE_VIDEO": "encoding video",
    "UPLOAD_ASSETS": "storing",
    "PUBLISH": "publishing",
    "FINALIZE": "finishing",
}


class RenderFailedError(RuntimeError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class RenderedFiles:
    video: Path
    subtitles: Path | None
    thumbnail: Path | None
    job: dict[str, Any]


def detect_language(text: str) -> str:
    """``ko`` when the text has Hangul, else ``en``."""
    hangul = sum(1 for char in text if "\uac00" <= char <= "\ud7a3")
    return "ko" if hangul >= 10 else "en"


def _raise_for_error(response: httpx.Response) -> None:
    if response.is_success or response.status_code in (301, 302, 303, 307, 308):
        return
    try:
        error = response.json()["error"]
        raise RenderFailedError(str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        raise RenderFailedError("HTTP_" + str(response.status_code), response.text[:500]) from None


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Parse ``event:``/``data:`` frames from an SSE line stream."""
    event, data = "message", ""
    for line in lines:
        if not line:
            if data:
                yield event, json.loads(data)
            event, data = "message", ""
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


class GatewayClient:
    def __init__(self, base_url: str, console: Console, *, api_key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT)
        self._console = console

    def close(self) -> None:
        self._http.close()

    def render_lesson(
        self,
        source_text: str,
        output: Path,
        *,
        language: str,
        title: str = "",
        size: str = "1280x720",
        visual_style: str = "basic",
        title_card: bool = True,
    ) -> RenderedFiles:
        video_id = f"cli-{uuid.uuid4().hex[:12]}"
        body = {"source_text": source_text, "title": title, "options": {"language": language}}
        response = self._http.post(f"/api/videos/{video_id}/scripts/generate", json=body)
        _raise_for_error(response)
        script_id = response.json()["script_id"]
        script = self._wait_for_script(script_id)
        scenes = sum(len(chapter["scenes"]) for chapter in script["script"]["chapters"])
        self._console.print(
            f"script [bold]{script['title']}[/]: {len(script['script']['chapters'])} chapters, {scenes} scenes"
        )
        _raise_for_error(self._http.post(f"/api/scripts/{script_id}/approve"))
        response = self._http.post(
            f"/api/videos/{video_id}/render-jobs",
            json={"script_id": script_id, "size": size, "visual_style": visual_style, "title_card": title_card},
        )
        _raise_for_error(response)
        job_id = response.json()["job"]["job_id"]
        final = self._follow_progress(job_id)
        if final["status"] != "COMPLETED":
            error = final.get("error") or {}
            raise RenderFailedError(error.get("code", final["status"]), error.get("message", "the job did not finish"))
        return self._download(job_id, output)

    def _wait_for_script(self, script_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + SCRIPT_WAIT_SEC
        while time.monotonic() < deadline:
            response = self._http.get(f"/api/scripts/{script_id}")
            _raise_for_error(response)
            if response.status_code == 200:
                script: dict[str, Any] = response.json()
                return script
            time.sleep(0.3)
        raise RenderFailedError("TIMEOUT", f"script {script_id} was not written within {SCRIPT_WAIT_SEC:.0f}s")

    def _follow_progress(self, job_id: str) -> dict[str, Any]:
        columns = (
            TextColumn("[bold]{task.fields[step]:<16}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        with (
            Progress(*columns, console=self._console) as bar,
            self._http.stream(
                "GET", f"/api/render-jobs/{job_id}/events", timeout=httpx.Timeout(None, connect=5.0)
            ) as stream,
        ):
            task = bar.add_task("render", total=100, step="queued")
            for event, update in sse_events(stream.iter_lines()):
                step = STEP_LABELS.get(str(update.get("step")), "queued")
                bar.update(task, completed=update.get("progress", 0), step=step)
                if event == "status":
                    return update
        response = self._http.get(f"/api/render-jobs/{job_id}")
        _raise_for_error(response)
        job: dict[str, Any] = response.json()
        return job

    def _download(self, job_id: str, output: Path) -> RenderedFiles:
        output.parent.mkdir(parents=True, exist_ok=True)
        self._save(f"/api/assets/{job_id}/video", output)
        srt = self._save(f"/api/assets/{job_id}/subtitles_srt", output.with_suffix(".srt"), required=False)
        thumb = self._save(f"/api/assets/{job_id}/thumbnail", output.with_suffix(".jpg"), required=False)
        job = self._http.get(f"/api/render-jobs/{job_id}").json()
        return RenderedFiles(video=output, subtitles=srt, thumbnail=thumb, job=job)

    def _save(self, route: str, target: Path, *, required: bool = True) -> Path | None:
        response = self._http.get(route, follow_redirects=True, timeout=httpx.Timeout(300.0, connect=5.0))
        if response.status_code == 404 and not required:
            return None
        _raise_for_error(response)
        target.write_bytes(response.content)
        return target
