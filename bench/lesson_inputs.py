"""The benchmark lesson, prepared once (untimed) and cached: narration text, espeak-ng WAVs, slides and cues.

Both engines read the same files, so the timed runs differ only in how they put the video together.
The narration comes from the bundled English sample lesson, cycled per chapter until each scene lasts
about the requested number of seconds; scene lengths are steered by the *measured* WAV durations so
rounding never adds up and 12 scenes of 15 s give a lesson within a sentence of 3 minutes.
"""

import asyncio
import hashlib
import inspect
import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.lesson_manifest import (
    MANIFEST_NAME,
    BenchLesson,
    BenchScene,
    CaptionCue,
    CaptionStyle,
    lesson_json,
    load_lesson,
)
from reelflow.compose import slides, subtitles
from reelflow.compose.fonts import FontSet, find_fonts
from reelflow.compose.slides import SlideContent, render_scene_slide, save_png
from reelflow.compose.subtitles import AssStyle, TimedNarration, plan_cues
from reelflow.contracts import Scene, Voice, frame_size
from reelflow.script.samples import sample_lesson
from reelflow.tts.narration import narrate_scene

# Bump when the way inputs are made changes, so stale caches are not reused.
INPUTS_VERSION = 2
LANGUAGE = "en"
FRAME_SIZE = "1280x720"
FPS = 30
CROSSFADE_SEC = 0.5
# Ken Burns on the MoviePy side: each slide grows from 100% to 106% over its scene, the same amount as
# reelflow's animated mode (reelflow.compose.motion.MAX_ZOOM), whose slides keep text clear of a 6% crop.
KEN_BURNS_ZOOM = 0.06
# espeak-ng en-us at its base 175 words/min speaks the sample at about 2.9 words/s.
ESTIMATED_WORDS_PER_SEC = 2.9
TRAILING_SILENCE_SEC = 0.35
NARRATE_TIMEOUT_SEC = 120.0
ESPEAK_VERSION_TIMEOUT_SEC = 10.0

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*$")
_BULLET = re.compile(r"^\s*[-*+]\s+")


@dataclass(frozen=True)
class Section:
    """One heading of the sample lesson and the sentences under it, the pool its scenes are cut from."""

    title: str
    sentences: tuple[str, ...]


def lesson_sections(markdown: str) -> list[Section]:
    """Headings and the sentences of the paragraphs and bullets under them (Markdown kept simple on purpose)."""
    sections: list[tuple[str, list[str]]] = []
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            sections.append((heading.group("title"), []))
            continue
        text = _BULLET.sub("", line).strip()
        if text and sections:
            sections[-1][1].extend(part for part in _SENTENCE_END.split(text) if part)
    return [Section(title=title, sentences=tuple(sentences)) for title, sentences in sections if sentences]


def estimated_speech_sec(text: str) -> float:
    return len(text.split()) / ESTIMATED_WORDS_PER_SEC + TRAILING_SILENCE_SEC


def pick_narration(sentences: Sequence[str], cursor: int, target_sec: float) -> tuple[str, int]:
    """Consecutive sentences from ``cursor`` (cycling) whose estimated speech is closest to ``target_sec``.

    Returns the text and the next cursor. A first sentence far longer than the target (quick runs ask
    for 2 s scenes) is cut to the words that fit, so scenes stay short when asked to.
    """
    if not sentences:
        raise ValueError("a section needs at least one sentence")
    chosen: list[str] = []
    while True:
        candidate = sentences[cursor % len(sentences)]
        current = " ".join(chosen)
        longer = f"{current} {candidate}".strip()
        if chosen and abs(estimated_speech_sec(longer) - target_sec) >= abs(estimated_speech_sec(current) - target_sec):
            return current, cursor
        chosen.append(candidate)
        cursor += 1
        if len(chosen) == 1 and estimated_speech_sec(candidate) > 2 * max(target_sec, 0.0):
            words = candidate.split()
            keep = max(2, round((target_sec - TRAILING_SILENCE_SEC) * ESTIMATED_WORDS_PER_SEC))
            if keep < len(words):
                return " ".join(words[:keep]).rstrip(",;:") + ".", cursor


def scene_cues(narration: str, duration_sec: float) -> tuple[CaptionCue, ...]:
    """reelflow's own cue plan for one scene, so the MoviePy side burns exactly the same caption text."""
    cues = plan_cues([TimedNarration(text=narration, start_sec=0.0, duration_sec=duration_sec)])
    return tuple(CaptionCue(start_sec=cue.start_sec, end_sec=cue.end_sec, text=cue.text) for cue in cues)


def caption_style(fonts: FontSet, size: tuple[int, int]) -> CaptionStyle:
    """reelflow burns bold captions with its ASS style for the frame; the MoviePy side gets the same numbers."""
    look = AssStyle.for_frame(size)
    return CaptionStyle(
        font_path=fonts.bold,
        font_size=look.font_size,
        stroke_width=look.outline,
        margin_h=look.margin_h,
        margin_v=look.margin_v,
    )


def inputs_key(scene_count: int, scene_seconds: float, fonts: FontSet) -> str:
    """What the prepared files depend on; a change to any of them prepares a fresh set."""
    identity = {
        "version": INPUTS_VERSION,
        "scenes": scene_count,
        "scene_seconds": scene_seconds,
        "size": FRAME_SIZE,
        "fps": FPS,
        "crossfade_sec": CROSSFADE_SEC,
        "ken_burns_zoom": KEN_BURNS_ZOOM,
        "language": LANGUAGE,
        "sample": sample_lesson(LANGUAGE),
        "espeak": _espeak_version(),
        "font": str(fonts.bold),
        # Slides and cues are reelflow's own; when that code changes, both sides must show the new version.
        "reelflow_code": [
            hashlib.sha256(inspect.getsource(module).encode()).hexdigest() for module in (slides, subtitles)
        ],
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]


def prepare_lesson(cache_dir: Path, scene_count: int, scene_seconds: float) -> tuple[BenchLesson, Path]:
    """The cached lesson for these settings, made first when missing; returns it and its manifest path."""
    if scene_count < 1 or scene_seconds <= 0:
        raise ValueError("the lesson needs at least one scene of a positive length")
    fonts = find_fonts()
    folder = cache_dir / f"lesson-{inputs_key(scene_count, scene_seconds, fonts)}"
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        return load_lesson(manifest), manifest
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    lesson = asyncio.run(_make_lesson(partial, scene_count, scene_seconds, fonts))
    (partial / MANIFEST_NAME).write_text(json.dumps(lesson_json(lesson, partial), indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)  # only a complete set ever has the real name
    return load_lesson(manifest), manifest


async def _make_lesson(folder: Path, scene_count: int, scene_seconds: float, fonts: FontSet) -> BenchLesson:
    sections = lesson_sections(sample_lesson(LANGUAGE))
    size = frame_size(FRAME_SIZE)
    cursors = [0] * len(sections)
    elapsed = 0.0
    scenes: list[BenchScene] = []
    for index in range(scene_count):
        chapter = index * len(sections) // scene_count
        section = sections[chapter]
        # Aim at where this scene should *end*, so one long scene is made up by a shorter next one.
        target = (index + 1) * scene_seconds - elapsed
        narration, cursors[chapter] = pick_narration(section.sentences, cursors[chapter], target)
        scene_id = f"scene-{index + 1:03d}"
        wav = folder / f"{scene_id}.wav"
        duration = await narrate_scene(
            narration,
            Voice(),
            LANGUAGE,
            wav,
            timeout_sec=NARRATE_TIMEOUT_SEC,
            trailing_silence_sec=TRAILING_SILENCE_SEC,
        )
        elapsed += duration
        slide = folder / f"{scene_id}.png"
        content = SlideContent.for_scene(section.title, Scene(scene_id=scene_id, narration=narration))
        save_png(render_scene_slide(content, size, fonts), slide)
        scenes.append(
            BenchScene(
                scene_id=scene_id,
                chapter_title=section.title,
                narration=narration,
                slide_png=slide,
                audio_wav=wav,
                duration_sec=duration,
                cues=scene_cues(narration, duration),
            )
        )
    return BenchLesson(
        language=LANGUAGE,
        size=FRAME_SIZE,
        fps=FPS,
        crossfade_sec=CROSSFADE_SEC,
        ken_burns_zoom=KEN_BURNS_ZOOM,
        caption=caption_style(fonts, size),
        scenes=tuple(scenes),
    )


def _espeak_version() -> str:
    try:
        completed = subprocess.run(
            ["espeak-ng", "--version"], capture_output=True, text=True, timeout=ESPEAK_VERSION_TIMEOUT_SEC, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return completed.stdout.strip()
