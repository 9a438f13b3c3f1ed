"""Composing a narrated lesson on local disk: subtitles, slides, per-part video, then one muxed MP4."""

import asyncio
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.composed_outputs import ComposedFiles, checked_duration
from reelflow.compose.ffmpeg import (
    animated_part_args,
    concat_list_text,
    final_mux_args,
    frame_boundaries,
    segment_args,
)
from reelflow.compose.fonts import FontSet
from reelflow.compose.loudness import (
    TARGET_LUFS,
    TOLERANCE_LU,
    LoudnormMeasurement,
    measure_integrated_lufs,
    measure_narration,
)
from reelflow.compose.motion import MovingSlide, move_for_scene
from reelflow.compose.scene_parts import PartPlan, plan_parts
from reelflow.compose.slides import SlideContent, render_scene_slide, render_title_card, save_jpeg, save_png
from reelflow.compose.soundtrack import MusicBed, soundtrack_filter
from reelflow.compose.step_control import (
    ProgressMeter,
    StepReporter,
    raise_if_canceled,
    run_all_or_stop_all,
    step_deadline,
)
from reelflow.compose.subtitles import (
    ChapterMark,
    Cue,
    TimedNarration,
    chapters_txt,
    plan_cues,
    segment_cues,
    to_ass,
    to_srt,
    to_vtt,
)
from reelflow.contracts import LessonSpec, MusicTrack, Scene, Step, SubtitleMode, VisualStyle, frame_size
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import MediaInvalidError, RenderError
from reelflow.runtime.media_probe import probe_media
from reelflow.runtime.processes import run_process

logger = logging.getLogger(__name__)

# Share of COMPOSE_VIDEO spent encoding parts (and measuring the narration); the rest is the final mux.
ENCODE_SHARE = 0.85
REPORT_EVERY = 0.01
DEFAULT_TRANSITION_SEC = 0.5
# Progress weight of the loudness analysis against one encoded frame: it reads only audio, so it is quick.
ANALYSIS_WEIGHT_PER_FRAME = 0.05


@dataclass(frozen=True)
class NarratedScene:
    """One scene, in script order, with its narration already synthesized to a local WAV."""

    chapter_title: str
    scene: Scene
    audio_path: Path
    duration_sec: float  # measured narration duration


@dataclass(frozen=True)
class Timeline:
    """Where each scene sits in the final video, in whole frames (derived from measured narration)."""

    fps: int
    boundaries: tuple[int, ...]

    @classmethod
    def from_durations(cls, durations: Sequence[float], fps: int) -> "Timeline":
        return cls(fps=fps, boundaries=tuple(frame_boundaries(durations, fps)))

    def __len__(self) -> int:
        return len(self.boundaries) - 1

    def frames(self, index: int) -> int:
        return self.boundaries[index + 1] - self.boundaries[index]

    def start_sec(self, index: int) -> float:
        return self.boundaries[index] / self.fps

    def end_sec(self, index: int) -> float:
        return self.boundaries[index + 1] / self.fps

    def duration_sec(self, index: int) -> float:
        return self.frames(index) / self.fps

    @property
    def total_sec(self) -> float:
        return self.boundaries[-1] / self.fps


@dataclass(frozen=True)
class _WorkPaths:
    root: Path

    @property
    def video(self) -> Path:
        return self.root / "video.mp4"

    @property
    def srt(self) -> Path:
        return self.root / "subtitles.srt"

    @property
    def vtt(self) -> Path:
        return self.root / "subtitles.vtt"

    @property
    def chapters(self) -> Path:
        return self.root / "chapters.txt"

    @property
    def thumbnail(self) -> Path:
        return self.root / "thumb.jpg"

    @property
    def concat_list(self) -> Path:
        return self.root / "parts" / "segments.ffconcat"

    def slide(self, index: int) -> Path:
        return self.root / "parts" / f"slide-{index + 1:03d}.png"

    def ass(self, part: int) -> Path:
        return self.root / "parts" / f"subtitles-{part + 1:03d}.ass"

    def segment(self, part: int) -> Path:
        return self.root / "parts" / f"segment-{part + 1:03d}.mp4"


def lesson_cues(scenes: Sequence[NarratedScene], timeline: Timeline, size: tuple[int, int] | None = None) -> list[Cue]:
    """Subtitle cues on the frame-aligned scene windows, so each one falls inside its own scene."""
    return plan_cues(
        [
            TimedNarration(
                text=item.scene.narration, start_sec=timeline.start_sec(i), duration_sec=timeline.duration_sec(i)
            )
            for i, item in enumerate(scenes)
        ],
        frame_size=size,
    )


def lesson_chapters(scenes: Sequence[NarratedScene], timeline: Timeline) -> list[ChapterMark]:
    """A chapter starts wherever the chapter title changes from the previous scene's."""
    marks: list[ChapterMark] = []
    for index, item in enumerate(scenes):
        if not marks or marks[-1].title != item.chapter_title:
            marks.append(ChapterMark(title=item.chapter_title, start_sec=timeline.start_sec(index)))
    return marks


def title_card_text(spec: LessonSpec, scenes: Sequence[NarratedScene]) -> tuple[str, str]:
    """(title, subtitle) for the thumbnail: the video title over the first chapter's title."""
    first_chapter = scenes[0].chapter_title if scenes else ""
    title = spec.title.strip() or (spec.publish.title if spec.publish else "") or first_chapter
    return title, first_chapter if first_chapter != title else ""


async def compose_lesson(
    spec: LessonSpec,
    scenes: Sequence[NarratedScene],
    workdir: Path,
    *,
    fonts: FontSet,
    report: StepReporter,
    cancel: CancelToken | None = None,
    parallelism: int = os.cpu_count() or 2,
    step_timeout_sec: float = 900.0,
    music_path: Path | None = None,
    transition_sec: float = DEFAULT_TRANSITION_SEC,
) -> ComposedFiles:
    """Turn narrated scenes into ``video.mp4`` plus SRT/VTT, ``chapters.txt`` and ``thumb.jpg`` in ``workdir``.

    Reports GENERATE_SUBTITLE, RENDER_SLIDES and COMPOSE_VIDEO progress; each step must finish within
    ``step_timeout_sec`` (:class:`StepTimeoutError`), and ``cancel`` stops it (:class:`JobCanceledError`).
    Subtitles are burned in when ``spec.subtitles`` is burn/both; the sidecar files are always written.
    The narration is normalised to -16 LUFS; ``spec.music`` (downloaded to ``music_path``) is ducked under
    it. Animated lessons move each slide and crossfade between scenes over ``transition_sec``.
    """
    paths = await asyncio.to_thread(_prepare, scenes, workdir)
    report = _forward_only(report)
    music = await _checked_music(spec.music, music_path, narration_count=len(scenes))
    size = frame_size(spec.size)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], spec.fps)
    animated = spec.visual_style is VisualStyle.ANIMATED
    plan = plan_parts(timeline.boundaries, round(max(0.0, transition_sec) * spec.fps) if animated else 0)
    burn = spec.subtitles in (SubtitleMode.BURN, SubtitleMode.BOTH)

    async with step_deadline(Step.GENERATE_SUBTITLE, step_timeout_sec, cancel):
        await report(Step.GENERATE_SUBTITLE, 0.0)
        cues = lesson_cues(scenes, timeline, size)
        await asyncio.to_thread(
            _write_subtitle_files, paths, cues, lesson_chapters(scenes, timeline), plan, spec.fps, size, fonts, burn
        )
        await report(Step.GENERATE_SUBTITLE, 1.0)

    async with step_deadline(Step.RENDER_SLIDES, step_timeout_sec, cancel):
        await report(Step.RENDER_SLIDES, 0.0)
        for index, item in enumerate(scenes):
            raise_if_canceled(cancel)
            content = SlideContent.for_scene(item.chapter_title, item.scene)
            await asyncio.to_thread(_render_slide_file, content, size, fonts, paths.slide(index))
            await report(Step.RENDER_SLIDES, (index + 1) / (len(scenes) + 1))
        title, subtitle = title_card_text(spec, scenes)
        await asyncio.to_thread(_render_thumbnail_file, title, subtitle, size, fonts, paths.thumbnail)
        await report(Step.RENDER_SLIDES, 1.0)

    async with step_deadline(Step.COMPOSE_VIDEO, step_timeout_sec, cancel):
        await report(Step.COMPOSE_VIDEO, 0.0)
        part_args = [
            _part_args(paths, plan, index, animated=animated, burn=burn, fonts=fonts, fps=spec.fps, size=size)
            for index in range(len(plan.parts))
        ]
        measured = await _encode_parts_and_measure_narration(
            scenes, timeline, plan, part_args, report, cancel, max(1, parallelism), step_timeout_sec
        )
        duration = await _mux(paths, scenes, timeline, plan, measured, music, report, cancel, step_timeout_sec)
        await report(Step.COMPOSE_VIDEO, 1.0)

    return ComposedFiles(
        video=paths.video,
        subtitles_srt=paths.srt,
        subtitles_vtt=paths.vtt,
        thumbnail=paths.thumbnail,
        chapters=paths.chapters,
        duration_sec=duration,
    )


def _part_args(
    paths: _WorkPaths,
    plan: PartPlan,
    index: int,
    *,
    animated: bool,
    burn: bool,
    fonts: FontSet,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """FFmpeg arguments for part ``index``: a still slide (basic), or moving slides and their crossfades."""
    part = plan.parts[index]
    ass = paths.ass(index) if burn else None
    if not animated:
        return segment_args(
            paths.slide(part.scenes[0]),
            ass,
            fonts.fonts_dir,
            paths.segment(index),
            frames=part.frames,
            fps=fps,
            size=size,
        )
    slides = [
        MovingSlide(
            png=paths.slide(scene),
            move=move_for_scene(scene),
            first_frame=part.start - plan.shots[scene].start,
            span_frames=plan.shots[scene].frames,
        )
        for scene in part.scenes
    ]
    return animated_part_args(
        slides, ass, fonts.fonts_dir, paths.segment(index), frames=part.frames, fps=fps, size=size
    )


def _prepare(scenes: Sequence[NarratedScene], workdir: Path) -> _WorkPaths:
    """Reject inputs no redelivery can fix, before any work is done, and create the work folders."""
    if not scenes:
        raise RenderError("a lesson needs at least one narrated scene to compose")
    for item in scenes:
        if not math.isfinite(item.duration_sec) or item.duration_sec <= 0:
            raise RenderError(
                f"scene {item.scene.scene_id!r}: narration duration must be a positive number, got {item.duration_sec}"
            )
        if not item.audio_path.is_file():
            raise RenderError(f"scene {item.scene.scene_id!r}: narration audio {item.audio_path} is missing")
    paths = _WorkPaths(workdir.resolve())
    paths.concat_list.parent.mkdir(parents=True, exist_ok=True)
    return paths


async def _checked_music(track: MusicTrack | None, path: Path | None, *, narration_count: int) -> MusicBed | None:
    """The music bed to mix, or None; music that is missing or cannot be decoded fails the job, naming its key."""
    if track is None:
        return None
    if path is None or not await asyncio.to_thread(path.is_file):
        raise MediaInvalidError(f"background music {track.media_key!r} is missing: it was not downloaded")
    try:
        info = await probe_media(path)
    except MediaInvalidError as exc:
        raise MediaInvalidError(
            f"background music {track.media_key!r} cannot be decoded: {exc.message}", details={"key": track.media_key}
        ) from exc
    if info.first("audio") is None or info.duration_sec <= 0:
        raise MediaInvalidError(
            f"background music {track.media_key!r} has no audio stream to play", details={"key": track.media_key}
        )
    return MusicBed(path=path, input_index=narration_count + 1, volume=track.volume)


def _write_subtitle_files(
    paths: _WorkPaths,
    cues: list[Cue],
    chapters: list[ChapterMark],
    plan: PartPlan,
    fps: int,
    size: tuple[int, int],
    fonts: FontSet,
    burn: bool,
) -> None:
    paths.srt.write_text(to_srt(cues), encoding="utf-8")
    paths.vtt.write_text(to_vtt(cues), encoding="utf-8")
    paths.chapters.write_text(chapters_txt(chapters, total_sec=plan.parts[-1].end / fps), encoding="utf-8")
    if burn:
        for index, part in enumerate(plan.parts):
            own = segment_cues(cues, part.start / fps, part.end / fps)
            paths.ass(index).write_text(to_ass(own, size, fonts.family), encoding="utf-8")


def _render_slide_file(content: SlideContent, size: tuple[int, int], fonts: FontSet, path: Path) -> None:
    save_png(render_scene_slide(content, size, fonts), path)


def _render_thumbnail_file(title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, path: Path) -> None:
    save_jpeg(render_title_card(title, subtitle, size, fonts), path)


def _forward_only(report: StepReporter) -> StepReporter:
    """Drop reports that would repeat a step's fraction or move it backwards."""
    last: dict[Step, float] = {}

    async def forward(step: Step, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if step in last and fraction <= last[step]:
            return
        last[step] = fraction
        await report(step, fraction)

    return forward


async def _encode_parts_and_measure_narration(
    scenes: Sequence[NarratedScene],
    timeline: Timeline,
    plan: PartPlan,
    part_args: Sequence[list[str]],
    report: StepReporter,
    cancel: CancelToken | None,
    parallelism: int,
    timeout_sec: float,
) -> LoudnormMeasurement:
    """Encode every part, and run loudnorm's first pass over the narration, all in parallel on ``parallelism`` slots.

    The analysis reads only the WAVs, so it does not wait for any video; its result feeds the final mux.
    """
    # A crossfade renders two moving slides per frame, so it weighs twice a body's frame.
    weights = [float(part.frames * len(part.scenes)) for part in plan.parts]
    analysis_slot = len(weights)
    weights.append(timeline.boundaries[-1] * ANALYSIS_WEIGHT_PER_FRAME)
    meter = ProgressMeter(report, Step.COMPOSE_VIDEO, weights, (0.0, ENCODE_SHARE), min_increase=REPORT_EVERY)
    gate = asyncio.Semaphore(parallelism)

    async def encode(index: int) -> None:
        async with gate:
            await run_process(
                part_args[index],
                timeout_sec=timeout_sec,
                cancel=cancel,
                expected_duration_sec=plan.parts[index].frames / timeline.fps,
                on_progress=meter.reporter(index),
            )
            await meter.update(index, 1.0)

    async def analyse() -> LoudnormMeasurement:
        async with gate:
            measured = await measure_narration(
                [item.audio_path for item in scenes],
                [timeline.duration_sec(i) for i in range(len(timeline))],
                timeout_sec=timeout_sec,
                cancel=cancel,
                on_progress=meter.reporter(analysis_slot),
            )
            await meter.update(analysis_slot, 1.0)
            return measured

    analysis = asyncio.create_task(analyse())
    await run_all_or_stop_all([analysis, *(encode(i) for i in range(len(plan.parts)))])
    return analysis.result()


async def _mux(
    paths: _WorkPaths,
    scenes: Sequence[NarratedScene],
    timeline: Timeline,
    plan: PartPlan,
    measured: LoudnormMeasurement,
    music: MusicBed | None,
    report: StepReporter,
    cancel: CancelToken | None,
    timeout_sec: float,
) -> float:
    segments = [paths.segment(i) for i in range(len(plan.parts))]
    part_durations = [part.frames / timeline.fps for part in plan.parts]
    await asyncio.to_thread(paths.concat_list.write_text, concat_list_text(segments, part_durations), "utf-8")
    meter = ProgressMeter(report, Step.COMPOSE_VIDEO, [1.0], (ENCODE_SHARE, 1.0), min_increase=REPORT_EVERY)
    await run_process(
        final_mux_args(
            paths.concat_list,
            [item.audio_path for item in scenes],
            [timeline.duration_sec(i) for i in range(len(timeline))],
            paths.video,
            total_duration_sec=timeline.total_sec,
            soundtrack_filter=soundtrack_filter(measured, music=music, total_sec=timeline.total_sec),
            looped_audio=music.path if music is not None else None,
        ),
        timeout_sec=timeout_sec,
        cancel=cancel,
        expected_duration_sec=timeline.total_sec,
        on_progress=meter.reporter(0),
    )
    duration = await checked_duration(paths.video, timeline.total_sec, described_as="video", made_of="scenes")
    loudness = await measure_integrated_lufs(paths.video, timeout_sec=timeout_sec, cancel=cancel)
    if abs(loudness - TARGET_LUFS) > TOLERANCE_LU:
        # Silent or near-silent narration cannot be lifted to the target; the video is still usable.
        logger.warning("the composed lesson measures %.1f LUFS, off the %.0f LUFS target", loudness, TARGET_LUFS)
    else:
        logger.info("the composed lesson measures %.1f LUFS", loudness)
    return duration
