"""The benchmark lesson as both engines read it: ``lesson.json`` and the files it names (see ``lesson_inputs``).

Kept apart from how the inputs are made, so a timed run imports only what reading them needs.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST_NAME = "lesson.json"


@dataclass(frozen=True)
class CaptionCue:
    """A burned caption, timed from the start of its own scene."""

    start_sec: float
    end_sec: float
    text: str


@dataclass(frozen=True)
class CaptionStyle:
    """How captions look, taken from reelflow's ASS style for the frame so both sides draw alike."""

    font_path: Path
    font_size: int
    stroke_width: int
    margin_h: int
    margin_v: int


@dataclass(frozen=True)
class BenchScene:
    scene_id: str
    chapter_title: str
    narration: str
    slide_png: Path
    audio_wav: Path
    duration_sec: float
    cues: tuple[CaptionCue, ...]


@dataclass(frozen=True)
class BenchLesson:
    """Everything both engines need, written as ``lesson.json`` beside the files it names."""

    language: str
    size: str
    fps: int
    crossfade_sec: float
    ken_burns_zoom: float
    caption: CaptionStyle
    scenes: tuple[BenchScene, ...]

    @property
    def total_sec(self) -> float:
        return sum(scene.duration_sec for scene in self.scenes)


def load_lesson(manifest: Path) -> BenchLesson:
    """Read ``lesson.json``; file names in it are relative to its folder."""
    data: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    folder = manifest.parent.resolve()
    caption = data["caption"]
    return BenchLesson(
        language=str(data["language"]),
        size=str(data["size"]),
        fps=int(data["fps"]),
        crossfade_sec=float(data["crossfade_sec"]),
        ken_burns_zoom=float(data["ken_burns_zoom"]),
        caption=CaptionStyle(
            font_path=Path(caption["font_path"]),
            font_size=int(caption["font_size"]),
            stroke_width=int(caption["stroke_width"]),
            margin_h=int(caption["margin_h"]),
            margin_v=int(caption["margin_v"]),
        ),
        scenes=tuple(
            BenchScene(
                scene_id=str(scene["scene_id"]),
                chapter_title=str(scene["chapter_title"]),
                narration=str(scene["narration"]),
                slide_png=folder / scene["slide_png"],
                audio_wav=folder / scene["audio_wav"],
                duration_sec=float(scene["duration_sec"]),
                cues=tuple(
                    CaptionCue(start_sec=float(cue["start_sec"]), end_sec=float(cue["end_sec"]), text=str(cue["text"]))
                    for cue in scene["cues"]
                ),
            )
            for scene in data["scenes"]
        ),
    )


def lesson_json(lesson: BenchLesson, folder: Path) -> dict[str, Any]:
    return {
        "language": lesson.language,
        "size": lesson.size,
        "fps": lesson.fps,
        "crossfade_sec": lesson.crossfade_sec,
        "ken_burns_zoom": lesson.ken_burns_zoom,
        "caption": {
            "font_path": str(lesson.caption.font_path),
            "font_size": lesson.caption.font_size,
            "stroke_width": lesson.caption.stroke_width,
            "margin_h": lesson.caption.margin_h,
            "margin_v": lesson.caption.margin_v,
        },
        "total_sec": lesson.total_sec,
        "scenes": [
            {
                "scene_id": scene.scene_id,
                "chapter_title": scene.chapter_title,
                "narration": scene.narration,
                "slide_png": str(scene.slide_png.relative_to(folder)),
                "audio_wav": str(scene.audio_wav.relative_to(folder)),
                "duration_sec": scene.duration_sec,
                "cues": [{"start_sec": c.start_sec, "end_sec": c.end_sec, "text": c.text} for c in scene.cues],
            }
            for scene in lesson.scenes
        ],
    }
