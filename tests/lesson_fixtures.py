"""Tiny lessons for the compose tests: a spec with N plain scenes, and its narration paired with WAV files."""

from collections.abc import Sequence
from pathlib import Path

from reelflow.compose.lesson import NarratedScene
from reelflow.contracts import Chapter, LessonSpec, Scene, Step, SubtitleMode, VideoScript
from reelflow.runtime.media_probe import probe_media


def lesson_spec(scene_count: int, **changes: object) -> LessonSpec:
    """One chapter of ``scene_count`` short scenes, sidecar subtitles (a clean picture) unless changed."""
    scenes = [
        Scene(scene_id=f"s{i + 1}", narration=f"Scene {i + 1} explains one idea.", on_screen_text=f"Idea {i + 1}")
        for i in range(scene_count)
    ]
    spec = LessonSpec(
        script=VideoScript(chapters=[Chapter(chapter_id="c1", title="Basics", scenes=scenes)]),
        size="320x180",
        fps=30,
        title="Tiny lesson",
        subtitles=SubtitleMode.SIDECAR,
    )
    return spec.model_copy(update=changes)


async def narrated_scenes(spec: LessonSpec, wavs: Sequence[Path]) -> list[NarratedScene]:
    """Each scene of ``spec`` in order with its WAV, duration measured the way the narrate step reports it."""
    scenes = [(chapter.title, scene) for chapter in spec.script.chapters for scene in chapter.scenes]
    return [
        NarratedScene(
            chapter_title=title, scene=scene, audio_path=wav, duration_sec=(await probe_media(wav)).duration_sec
        )
        for (title, scene), wav in zip(scenes, wavs, strict=True)
    ]


async def ignore_progress(step: Step, fraction: float) -> None:
    """A progress reporter for tests that do not look at progress."""
