"""The reelflow side of the render benchmark: one ``compose_lesson`` run, alone in a fresh process.

Started by :mod:`bench.render` as ``python -m bench.reelflow_side``, so the memory measured is this
process and the FFmpeg processes it starts, nothing else. It renders its own slides and subtitles as
part of the timed run, because that is what ``compose_lesson`` does for a job.
"""

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.lesson_inputs import BenchLesson, load_lesson
from reelflow.compose.fonts import find_fonts
from reelflow.compose.lesson import NarratedScene, compose_lesson
from reelflow.contracts import Chapter, LessonSpec, Scene, Step, SubtitleMode, VideoScript, VisualStyle


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


def narrated_scenes(lesson: BenchLesson, spec: LessonSpec) -> list[NarratedScene]:
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True, help="lesson.json from bench.lesson_inputs")
    parser.add_argument("--mode", choices=[style.value for style in VisualStyle], required=True)
    parser.add_argument("--workdir", type=Path, required=True, help="compose_lesson's work folder")
    parser.add_argument("--result", type=Path, required=True, help="where to write this run's JSON facts")
    args = parser.parse_args(argv)

    engine_log = _EngineLog()
    logging.getLogger("reelflow").addHandler(engine_log)
    logging.getLogger("reelflow").setLevel(logging.INFO)

    lesson = load_lesson(args.manifest)
    spec = lesson_spec(lesson, VisualStyle(args.mode))
    files = asyncio.run(
        compose_lesson(spec, narrated_scenes(lesson, spec), args.workdir, fonts=find_fonts(), report=_ignore_progress)
    )
    facts = {"video": str(files.video), "engine_log": engine_log.messages}
    args.result.write_text(json.dumps(facts, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
