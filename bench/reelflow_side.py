"""The reelflow side of the render benchmark: one ``compose_lesson`` or ``compose_ranking`` run, alone in a
fresh process.

Started by :mod:`bench.render` as ``python -m bench.reelflow_side``, so the memory measured is this
process and the FFmpeg processes it starts, nothing else. It renders its own slides, subtitles and badges
as part of the timed run, because that is what compose does for a job. A ranking short fetches its clips
from a directory blob store, as a worker fetches them from S3.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.lesson_manifest import BenchLesson, load_lesson
from reelflow.compose.composed_outputs import ComposedFiles
from reelflow.compose.fonts import find_fonts
from reelflow.contracts import Chapter, LessonSpec, Scene, Step, SubtitleMode, VideoScript, VisualStyle

if TYPE_CHECKING:
    from reelflow.compose.lesson import NarratedScene

RANKING = "ranking"
MEDIA_BUCKET = "media"
STEP_TIMEOUT_SEC = 900.0


class _EngineLog(logging.Handler):
    """Keeps what the compose engine says about the run (e.g. that a style is not built yet) for the results."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def lesson_spec(lesson: BenchLesson, style: VisualStyle) -> LessonSpec:
    """The benchmark lesson as the spec a client would send: burned subtitles, one chapter per heading."""
    chapters: list[Chapter] = []
    for item in lesson.scenes:
        scene = Scene(scene_id=item.scene_id, narration=item.narration)
        if chapters and chapters[-1].title == item.chapter_title:
            previous = chapters[-1]
            chapters[-1] = previous.model_copy(update={"scenes": [*previous.scenes, scene]})
        else:
            chapter_id = f"chapter-{len(chapters) + 1}"
            chapters.append(Chapter(chapter_id=chapter_id, title=item.chapter_title, scenes=[scene]))
    return LessonSpec(
        title="What is phishing? (render benchmark)",
        language=lesson.language,
        script=VideoScript(chapters=chapters),
        visual_style=style,
        size=lesson.size,
        fps=lesson.fps,
        subtitles=SubtitleMode.BURN,
    )


def narrated_scenes(lesson: BenchLesson, spec: LessonSpec) -> "list[NarratedScene]":
    from reelflow.compose.lesson import NarratedScene

    by_id = {item.scene_id: item for item in lesson.scenes}
    return [
        NarratedScene(
            chapter_title=chapter.title,
            scene=scene,
            audio_path=by_id[scene.scene_id].audio_wav,
            duration_sec=by_id[scene.scene_id].duration_sec,
        )
        for chapter in spec.script.chapters
        for scene in chapter.scenes
    ]


async def _ignore_progress(step: Step, fraction: float) -> None:
    """The benchmark times the whole run; per-step progress would only add output."""


class JobTimer:
    """The seconds the compose call itself takes: what a running worker spends on the job."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextlib.contextmanager
    def timing(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds = time.monotonic() - started


async def compose_bench_lesson(manifest: Path, style: VisualStyle, workdir: Path, timer: JobTimer) -> ComposedFiles:
    """The lesson as a compose worker makes it, from the prepared narration.

    Each mode imports only its own modules (here the lesson's, with its picture and LLM clients; the short's in
    :func:`compose_short`): a compose worker has all of them loaded before a job arrives, and this process
    lives for one run, so a second of imports the run does not use would only be counted against it.
    """
    from reelflow.compose.lesson import compose_lesson

    lesson = load_lesson(manifest)
    spec = lesson_spec(lesson, style)
    scenes, fonts = narrated_scenes(lesson, spec), find_fonts()
    with timer.timing():
        return await compose_lesson(spec, scenes, workdir, fonts=fonts, report=_ignore_progress)


async def compose_short(manifest: Path, workdir: Path, timer: JobTimer) -> ComposedFiles:
    """The short as a compose worker makes it: its clips and music fetched from the media bucket (its modules
    are imported here, as :func:`compose_bench_lesson` says)."""
    from bench.ranking_inputs import load_short
    from reelflow.compose.ranking_job import compose_ranking
    from reelflow.contracts import Event
    from reelflow.runtime.blobs import DirectoryBlobStore
    from reelflow.runtime.cancellation import CancelToken
    from reelflow.runtime.progress import ProgressReporter

    class NoBus:
        """Where the job's progress goes: nowhere (there is no broker); the benchmark times the whole run."""

        async def publish(self, event: Event) -> None:
            """Progress is not needed."""

    short = load_short(manifest)
    blobs = DirectoryBlobStore(workdir / "blobs")
    for path in (*(clip.path for clip in short.clips), short.music):
        await blobs.put_file(MEDIA_BUCKET, path.name, path, "application/octet-stream")
    fonts = find_fonts()
    with timer.timing():
        return await compose_ranking(
            short.spec(),
            workdir / "work",
            blobs=blobs,
            media_bucket=MEDIA_BUCKET,
            fonts=fonts,
            progress=ProgressReporter(NoBus(), job_id="bench-ranking", attempt=1),
            cancel=CancelToken(),
            parallelism=os.cpu_count() or 2,
            step_timeout_sec=STEP_TIMEOUT_SEC,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--manifest", type=Path, required=True, help="lesson.json (bench.lesson_inputs) or ranking.json (ranking)"
    )
    parser.add_argument("--mode", choices=[*(style.value for style in VisualStyle), RANKING], required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="compose's work folder")
    parser.add_argument("--result", type=Path, required=True, help="where to write this run's JSON facts")
    args = parser.parse_args(argv)

    engine_log = _EngineLog()
    logging.getLogger("reelflow").addHandler(engine_log)
    logging.getLogger("reelflow").setLevel(logging.INFO)

    timer = JobTimer()
    if args.mode == RANKING:
        files = asyncio.run(compose_short(args.manifest, args.workdir, timer))
    else:
        files = asyncio.run(compose_bench_lesson(args.manifest, VisualStyle(args.mode), args.workdir, timer))
    facts = {"video": str(files.video), "engine_log": engine_log.messages, "job_sec": round(timer.seconds, 3)}
    args.result.write_text(json.dumps(facts, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
