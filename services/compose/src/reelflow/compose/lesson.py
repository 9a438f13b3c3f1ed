"""Composing a narrated lesson on local disk: subtitles, slides, the picture and the soundtrack side by side,
then one MP4 that copies both.

A basic lesson's picture is a still slide that changes only with its caption: each distinct picture is
encoded once and held with skip frames (:mod:`reelflow.compose.h264_hold`). Only a scene whose picture fills the
frame moves there (a slow Ken Burns under its still text, :mod:`reelflow.compose.backdrops`): it is encoded on its
own and spliced between the held pictures. A scene whose visual is an uploaded video shows it in either style, under
its still slide text (full frame) or through a window in its slide (beside). An animated lesson's slides move,
so its parts are encoded in parallel and joined by the concat demuxer. Either way the soundtrack needs only
the narration, so it is levelled and encoded while the slides are drawn and the picture is encoded
(DESIGN §15).
"""

import asyncio
import logging
import math
import os
import wave
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reelflow.compose.audio_mix import music_gain_db
from reelflow.compose.backdrops import LayeredShot, PictureBackdrop, VideoBackdrop, Window
from reelflow.compose.composed_outputs import ComposedFiles, checked_duration
from reelflow.compose.ffmpeg import (
    AUDIO_SAMPLE_RATE,
    animated_part_args,
    concat_list_text,
    drawn_part_args,
    frame_boundaries,
    held_pictures_mux_args,
    parts_mux_args,
    spliced_shot_args,
    still_pictures_args,
)
from reelflow.compose.fonts import FontSet, subtitle_font_set, subtitle_fonts_folder
from reelflow.compose.h264_hold import EncodedShot, spliced_stream
from reelflow.compose.loudness import (
    TARGET_LUFS,
    TOLERANCE_LU,
    measure_integrated_lufs,
    narration_levelling,
    parse_integrated_lufs,
)
from reelflow.compose.motion import MovingSlide, move_for_scene
from reelflow.compose.picture_plan import (
    PICTURE_SLOT_SEC,
    HeldPicture,
    MovingShot,
    picture_slot_cues,
    plan_pictures_and_shots,
)
from reelflow.compose.scene_parts import PartPlan, plan_parts
from reelflow.compose.slides import (
    SlideContent,
    SlideTheme,
    picture_cover,
    render_scene_slide,
    render_slide_around,
    render_text_over_backdrop,
    render_title_card,
    save_bitmap,
    save_jpeg,
    save_png,
    theme_for,
    video_title,
)
from reelflow.compose.soundtrack import MusicBed, soundtrack_args, soundtrack_layout
from reelflow.compose.step_control import (
    ProgressMeter,
    StepReporter,
    raise_if_canceled,
    run_all_or_stop_all,
    step_deadline,
)
from reelflow.compose.subtitles import (
    AssStyle,
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
from reelflow.contracts.upload_keys import is_uploaded_video
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import MediaInvalidError, RenderError
from reelflow.runtime.media_probe import probe_media
from reelflow.runtime.processes import run_process

logger = logging.getLogger(__name__)

# Share of COMPOSE_VIDEO spent encoding the picture and the soundtrack; the rest is the final mux.
ENCODE_SHARE = 0.85
REPORT_EVERY = 0.01
DEFAULT_TRANSITION_SEC = 0.5
# Progress weights against one encoded moving frame: the soundtrack reads and encodes only audio, and a held
# picture is one IDR frame, worth a few moving frames.
SOUNDTRACK_WEIGHT_PER_FRAME = 0.1
HELD_PICTURE_WEIGHT = 4.0
CARD_SEC = 3.0  # how long a title card opens, and an outro card ends, a lesson that asks for one
MUSIC_SCAN_TIMEOUT_SEC = 120.0  # the music's loudness scan (a decode of the file; seconds for a long song)


@dataclass(frozen=True)
class NarratedScene:
    """One scene, in script order, with its narration already synthesized to a local WAV.

    The title card that opens a lesson (``LessonSpec.title_card``) and the outro card that ends it
    (``LessonSpec.outro_text``) are ones too, with no script scene: the picture is the ``card`` (a title over a
    subtitle), the sound a moment of silence, and each belongs to its neighbouring scene's chapter.
    """

    chapter_title: str
    scene: Scene | None
    audio_path: Path
    duration_sec: float  # measured narration duration
    card: tuple[str, str] = ("", "")  # (title, subtitle) of a card; only when ``scene`` is None

    @property
    def narration(self) -> str:
        return self.scene.narration if self.scene is not None else ""

    @property
    def name(self) -> str:
        return f"scene {self.scene.scene_id!r}" if self.scene is not None else f"the card {self.card[0]!r}"


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

    @property
    def soundtrack(self) -> Path:
        return self.root / "parts" / "soundtrack.m4a"

    @property
    def pictures_list(self) -> Path:
        return self.root / "parts" / "pictures.ffconcat"

    @property
    def pictures_ass(self) -> Path:
        return self.root / "parts" / "pictures.ass"

    @property
    def encoded_pictures(self) -> Path:
        return self.root / "parts" / "pictures.h264"

    @property
    def held_pictures(self) -> Path:
        return self.root / "parts" / "held.h264"

    @property
    def fonts(self) -> Path:
        return self.root / "fonts"

    def slide(self, index: int) -> Path:
        return self.root / "parts" / f"slide-{index + 1:03d}.bmp"

    def backdrop(self, index: int) -> Path:
        """A moving scene's full-frame picture, without its text (which is in its overlay)."""
        return self.root / "parts" / f"backdrop-{index + 1:03d}.bmp"

    def overlay(self, index: int) -> Path:
        return self.root / "parts" / f"overlay-{index + 1:03d}.png"

    def shot_ass(self, index: int) -> Path:
        return self.root / "parts" / f"shot-{index + 1:03d}.ass"

    def shot(self, index: int) -> Path:
        return self.root / "parts" / f"shot-{index + 1:03d}.h264"

    def ass(self, part: int) -> Path:
        return self.root / "parts" / f"subtitles-{part + 1:03d}.ass"

    def segment(self, part: int) -> Path:
        return self.root / "parts" / f"segment-{part + 1:03d}.mp4"


def lesson_cues(
    scenes: Sequence[NarratedScene],
    timeline: Timeline,
    size: tuple[int, int] | None = None,
    style: AssStyle | None = None,
) -> list[Cue]:
    """Subtitle cues on the frame-aligned scene windows, so each one falls inside its own scene; lines are
    broken to what fits the burned ``style`` (by default the frame's), so sidecars and burn break alike."""
    return plan_cues(
        [
            TimedNarration(text=item.narration, start_sec=timeline.start_sec(i), duration_sec=timeline.duration_sec(i))
            for i, item in enumerate(scenes)
        ],
        frame_size=size,
        chars_per_line=style.line_columns if style is not None else None,
    )


def lesson_chapters(scenes: Sequence[NarratedScene], timeline: Timeline) -> list[ChapterMark]:
    """A chapter starts wherever the chapter title changes from the previous scene's."""
    marks: list[ChapterMark] = []
    for index, item in enumerate(scenes):
        if not marks or marks[-1].title != item.chapter_title:
            marks.append(ChapterMark(title=item.chapter_title, start_sec=timeline.start_sec(index)))
    return marks


def title_card_text(spec: LessonSpec, scenes: Sequence[NarratedScene]) -> tuple[str, str]:
    """(title, subtitle) for the thumbnail and the title card: the video title over the first chapter's title."""
    first_chapter = scenes[0].chapter_title if scenes else ""
    title = video_title(spec) or first_chapter
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
    images: Mapping[str, Path] | None = None,
    logo: Path | None = None,
    slide_fonts: FontSet | None = None,
) -> ComposedFiles:
    """Turn narrated scenes into ``video.mp4`` plus SRT/VTT, ``chapters.txt`` and ``thumb.jpg`` in ``workdir``.

    Reports GENERATE_SUBTITLE, RENDER_SLIDES and COMPOSE_VIDEO progress; each step must finish within
    ``step_timeout_sec`` (:class:`StepTimeoutError`), and ``cancel`` stops it (:class:`JobCanceledError`).
    Subtitles are burned in when ``spec.subtitles`` is burn/both; the sidecar files are always written.
    The narration is levelled to -16 LUFS; ``spec.music`` (downloaded to ``music_path``) is ducked under
    it. Animated lessons move each slide and crossfade between scenes over ``transition_sec``. ``images``
    (pictures or videos by scene id, see ``scene_images``) are placed on their scenes' slides (a video is probed
    first: one without a video stream fails the job, naming the scene), and the brand's ``logo`` on every slide
    and card. ``slide_fonts`` (a brand's font) draw the slides, cards and thumbnail in place of ``fonts``; the
    subtitles keep ``fonts`` (or the face ``subtitle_style`` names).
    """
    cards = _cards(spec, scenes)
    if spec.title_card:
        scenes = [await asyncio.to_thread(_card_scene, cards.title, scenes[0], workdir, "title-card"), *scenes]
    if spec.outro_text.strip():
        scenes = [*scenes, await asyncio.to_thread(_card_scene, cards.outro, scenes[-1], workdir, "outro-card")]
    look = AssStyle.for_frame(frame_size(spec.size), spec.subtitle_style)
    subtitle_fonts = await asyncio.to_thread(subtitle_font_set, spec.subtitle_style.font, fonts)
    paths = await asyncio.to_thread(_prepare, scenes, workdir, subtitle_fonts)
    report = _forward_only(report)
    music = await _checked_music(spec.music, music_path, narration_count=len(scenes))
    size = frame_size(spec.size)
    timeline = Timeline.from_durations([item.duration_sec for item in scenes], spec.fps)
    animated = spec.visual_style is VisualStyle.ANIMATED
    plan = plan_parts(timeline.boundaries, round(max(0.0, transition_sec) * spec.fps) if animated else 0)
    burn = spec.subtitles in (SubtitleMode.BURN, SubtitleMode.BOTH)
    videos = await _probed_videos(scenes, images or {})
    # Scenes drawn as a moving backdrop under a still overlay: every video visual, and in a basic lesson every
    # full-frame picture (an animated lesson moves its whole slide instead).
    moving = set(videos) if animated else set(videos) | _full_frame_picture_scenes(scenes, images or {})
    # The soundtrack needs nothing but the narration, so it is made while everything else is.
    soundtrack = asyncio.ensure_future(_make_soundtrack(paths, scenes, timeline, music, cancel, step_timeout_sec))
    try:
        async with step_deadline(Step.GENERATE_SUBTITLE, step_timeout_sec, cancel):
            await report(Step.GENERATE_SUBTITLE, 0.0)
            cues = lesson_cues(scenes, timeline, size, look)
            pictures = (
                None
                if animated
                else plan_pictures_and_shots(timeline.boundaries, cues if burn else [], spec.fps, moving)
            )
            await asyncio.to_thread(
                _write_subtitle_files,
                paths,
                cues,
                lesson_chapters(scenes, timeline),
                timeline,
                plan if animated else None,
                pictures,
                size,
                subtitle_fonts,
                look if burn else None,
            )
            await report(Step.GENERATE_SUBTITLE, 1.0)

        async with step_deadline(Step.RENDER_SLIDES, step_timeout_sec, cancel):
            await report(Step.RENDER_SLIDES, 0.0)
            windows: dict[int, Window | None] = {}
            title, subtitle = cards.title
            theme = replace(theme_for(spec.theme, spec.brand), logo=logo)
            faces = slide_fonts or fonts
            for index, item in enumerate(scenes):
                raise_if_canceled(cancel)
                if item.scene is None:
                    await asyncio.to_thread(_render_title_slide, *item.card, size, faces, theme, paths.slide(index))
                else:
                    content = SlideContent.for_scene(item.chapter_title, item.scene)
                    content = replace(content, image=(images or {}).get(item.scene.scene_id))
                    if spec.layout == "bullets":
                        content = replace(content, earlier_points=earlier_points(scenes, index))
                    if index in moving:
                        shown = videos.get(index)
                        layers = (content, size, faces, theme, paths, index, shown.size if shown else None)
                        windows[index] = await asyncio.to_thread(_render_layers, *layers)
                    else:
                        await asyncio.to_thread(_render_slide_file, content, size, faces, theme, paths.slide(index))
                await report(Step.RENDER_SLIDES, (index + 1) / (len(scenes) + 1))
            await asyncio.to_thread(_render_thumbnail_file, title, subtitle, size, faces, theme, paths.thumbnail)
            await report(Step.RENDER_SLIDES, 1.0)

        async with step_deadline(Step.COMPOSE_VIDEO, step_timeout_sec, cancel):
            await report(Step.COMPOSE_VIDEO, 0.0)
            backdrops = {index: _backdrop(paths, index, videos, windows) for index in moving}
            video = _VideoJob(paths, timeline, size, burn, backdrops, report, cancel, step_timeout_sec)
            if pictures is not None:
                loudness = await video.hold_pictures(pictures, soundtrack, max(1, parallelism))
                mux = held_pictures_mux_args(
                    paths.held_pictures,
                    paths.soundtrack,
                    paths.video,
                    fps=spec.fps,
                    total_duration_sec=timeline.total_sec,
                )
            else:
                loudness = await video.encode_parts(plan, soundtrack, max(1, parallelism))
                mux = parts_mux_args(
                    paths.concat_list,
                    paths.soundtrack,
                    paths.video,
                    fps=spec.fps,
                    total_duration_sec=timeline.total_sec,
                )
            meter = ProgressMeter(report, Step.COMPOSE_VIDEO, [1.0], (ENCODE_SHARE, 1.0), min_increase=REPORT_EVERY)
            await run_process(
                mux,
                timeout_sec=step_timeout_sec,
                cancel=cancel,
                expected_duration_sec=timeline.total_sec,
                on_progress=meter.reporter(0),
            )
            duration = await checked_duration(paths.video, timeline.total_sec, described_as="video", made_of="scenes")
            _log_loudness(loudness)
            await report(Step.COMPOSE_VIDEO, 1.0)
    finally:
        if not soundtrack.done():
            soundtrack.cancel()
        await asyncio.gather(soundtrack, return_exceptions=True)

    return ComposedFiles(
        video=paths.video,
        subtitles_srt=paths.srt,
        subtitles_vtt=paths.vtt,
        thumbnail=paths.thumbnail,
        chapters=paths.chapters,
        duration_sec=duration,
    )


class _VideoJob:
    """The picture half of COMPOSE_VIDEO, reporting its progress together with the soundtrack's."""

    def __init__(
        self,
        paths: _WorkPaths,
        timeline: Timeline,
        size: tuple[int, int],
        burn: bool,
        backdrops: Mapping[int, PictureBackdrop | VideoBackdrop],
        report: StepReporter,
        cancel: CancelToken | None,
        timeout_sec: float,
    ) -> None:
        self._paths = paths
        self._timeline = timeline
        self._size = size
        self._burn = burn
        self._backdrops = backdrops
        self._report = report
        self._cancel = cancel
        self._timeout_sec = timeout_sec

    def _meter(self, weights: list[float]) -> ProgressMeter:
        """A meter over ``weights`` plus one last slot for the soundtrack."""
        soundtrack_weight = self._timeline.boundaries[-1] * SOUNDTRACK_WEIGHT_PER_FRAME
        return ProgressMeter(
            self._report,
            Step.COMPOSE_VIDEO,
            [*weights, soundtrack_weight],
            (0.0, ENCODE_SHARE),
            min_increase=REPORT_EVERY,
        )

    @staticmethod
    async def _soundtrack_done(soundtrack: "asyncio.Future[float]", meter: ProgressMeter, slot: int) -> float:
        loudness = await soundtrack
        await meter.update(slot, 1.0)
        return loudness

    async def hold_pictures(
        self, planned: Sequence[HeldPicture | MovingShot], soundtrack: "asyncio.Future[float]", parallelism: int
    ) -> float:
        """Encode each distinct picture once, and each moving shot on its own (``parallelism`` runs at a time),
        then hold each picture for its frames between the shots; returns the soundtrack's loudness."""
        paths, fps = self._paths, self._timeline.fps
        pictures = [item for item in planned if isinstance(item, HeldPicture)]
        shots = [item for item in planned if isinstance(item, MovingShot)]
        slides = [paths.slide(picture.scene) for picture in pictures]
        await asyncio.to_thread(
            paths.pictures_list.write_text, concat_list_text(slides, [PICTURE_SLOT_SEC] * len(slides)), "utf-8"
        )
        meter = self._meter([HELD_PICTURE_WEIGHT * len(pictures), *(float(shot.frames) for shot in shots)])
        gate = asyncio.Semaphore(parallelism)

        async def encode_shot(slot: int, shot: MovingShot) -> None:
            async with gate:
                await run_process(
                    _spliced_shot_args(
                        paths, shot, self._backdrops[shot.scene], burn=self._burn, fps=fps, size=self._size
                    ),
                    timeout_sec=self._timeout_sec,
                    cancel=self._cancel,
                    expected_duration_sec=shot.frames / fps,
                    on_progress=meter.reporter(slot),
                )
                await meter.update(slot, 1.0)

        async def encode_pictures() -> None:
            if not pictures:
                return
            async with gate:
                await run_process(
                    still_pictures_args(
                        paths.pictures_list,
                        paths.pictures_ass if self._burn else None,
                        paths.fonts,
                        paths.encoded_pictures,
                        pictures=len(pictures),
                        fps=fps,
                        size=self._size,
                    ),
                    timeout_sec=self._timeout_sec,
                    cancel=self._cancel,
                    expected_duration_sec=len(pictures) / fps,
                    on_progress=meter.reporter(0),
                )

        loudness = asyncio.ensure_future(self._soundtrack_done(soundtrack, meter, 1 + len(shots)))
        encodes = [encode_pictures(), *(encode_shot(1 + slot, shot) for slot, shot in enumerate(shots))]
        await run_all_or_stop_all([loudness, *encodes])
        await asyncio.to_thread(_write_held_stream, paths, planned)
        await meter.update(0, 1.0)
        return loudness.result()

    async def encode_parts(self, plan: PartPlan, soundtrack: "asyncio.Future[float]", parallelism: int) -> float:
        """Encode every part of an animated lesson, ``parallelism`` at a time; returns the soundtrack's loudness.

        A part of moving slides is drawn in Python and piped to FFmpeg (:mod:`moving_slides`); a part showing a
        scene's video visual is filtered by FFmpeg itself (:func:`ffmpeg.animated_part_args`).
        """
        # Imported here, not at the top: OpenCV and NumPy add about 40 MB to the process, which basic lessons
        # and shorts do not need (and the benchmark holds a basic lesson's whole process tree to 250 MiB).
        from reelflow.compose import moving_slides

        paths, fps = self._paths, self._timeline.fps
        part_durations = [part.frames / fps for part in plan.parts]
        segments = [paths.segment(index) for index in range(len(plan.parts))]
        await asyncio.to_thread(paths.concat_list.write_text, concat_list_text(segments, part_durations), "utf-8")
        # A crossfade renders two moving slides per frame, so it weighs twice a body's frame.
        meter = self._meter([float(part.frames * len(part.scenes)) for part in plan.parts])
        gate = asyncio.Semaphore(parallelism)
        # Each scene's enlarged slide is made once and kept while a part still to come shows it.
        uses = Counter(scene for part in plan.parts for scene in part.scenes if scene not in self._backdrops)
        slides: dict[int, asyncio.Task[moving_slides.EnlargedSlide]] = {}

        def enlarged(scene: int) -> "asyncio.Task[moving_slides.EnlargedSlide]":
            if scene not in slides:
                made = moving_slides.enlarged_slide(paths.slide(scene), self._size, timeout_sec=self._timeout_sec)
                slides[scene] = asyncio.ensure_future(made)
            return slides[scene]

        async def encode(index: int) -> None:
            part = plan.parts[index]
            async with gate:
                frames: Iterator[memoryview] | None = None
                if all(scene not in self._backdrops for scene in part.scenes):
                    moving = [_moving_slide(paths, plan, index, scene) for scene in part.scenes]
                    drawn = [await enlarged(scene) for scene in part.scenes]
                    frames = moving_slides.part_frames(list(zip(drawn, moving, strict=True)), part.frames)
                    args = drawn_part_args(
                        paths.ass(index) if self._burn else None,
                        paths.fonts,
                        paths.segment(index),
                        frames=part.frames,
                        fps=fps,
                        size=self._size,
                    )
                else:
                    args = _animated_part_args(
                        paths, plan, index, self._backdrops, burn=self._burn, fps=fps, size=self._size
                    )
                await run_process(
                    args,
                    timeout_sec=self._timeout_sec,
                    cancel=self._cancel,
                    expected_duration_sec=part_durations[index],
                    on_progress=meter.reporter(index),
                    stdin=frames,
                )
                await meter.update(index, 1.0)
            for scene in part.scenes:
                if scene in uses:
                    uses[scene] -= 1
                    if not uses[scene]:
                        slides.pop(scene, None)

        loudness = asyncio.ensure_future(self._soundtrack_done(soundtrack, meter, len(plan.parts)))
        try:
            await run_all_or_stop_all([loudness, *(encode(index) for index in range(len(plan.parts)))])
        finally:
            for task in slides.values():
                task.cancel()
        return loudness.result()


def _moving_slide(paths: _WorkPaths, plan: PartPlan, index: int, scene: int) -> MovingSlide:
    """Scene ``scene``'s slide as part ``index`` shows it: where in the scene's move the part's first frame sits."""
    part, shot = plan.parts[index], plan.shots[scene]
    return MovingSlide(paths.slide(scene), move_for_scene(scene), part.start - shot.start, shot.frames)


def _animated_part_args(
    paths: _WorkPaths,
    plan: PartPlan,
    index: int,
    backdrops: Mapping[int, PictureBackdrop | VideoBackdrop],
    *,
    burn: bool,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """FFmpeg arguments for part ``index`` of an animated lesson: a moving slide, or two and their crossfade; a
    scene with a video visual shows its video (from the shot's start) under its still overlay instead."""
    part = plan.parts[index]
    slides: list[MovingSlide | LayeredShot] = []
    for scene in part.scenes:
        backdrop = backdrops.get(scene)
        if backdrop is None:
            slides.append(_moving_slide(paths, plan, index, scene))
        else:
            first_frame, span = part.start - plan.shots[scene].start, plan.shots[scene].frames
            slides.append(LayeredShot(backdrop, paths.overlay(scene), first_frame, span))
    return animated_part_args(
        slides,
        paths.ass(index) if burn else None,
        paths.fonts,
        paths.segment(index),
        frames=part.frames,
        fps=fps,
        size=size,
    )


def _spliced_shot_args(
    paths: _WorkPaths,
    shot: MovingShot,
    backdrop: PictureBackdrop | VideoBackdrop,
    *,
    burn: bool,
    fps: int,
    size: tuple[int, int],
) -> list[str]:
    """FFmpeg arguments for a basic lesson's moving scene: its full-frame picture's slow Ken Burns (the move an
    animated lesson gives the same scene) or its video, under its still text."""
    layered = LayeredShot(backdrop, paths.overlay(shot.scene), first_frame=0, span_frames=shot.frames)
    ass = paths.shot_ass(shot.scene) if burn else None
    return spliced_shot_args(layered, ass, paths.fonts, paths.shot(shot.scene), frames=shot.frames, fps=fps, size=size)


def _write_held_stream(paths: _WorkPaths, planned: Sequence[HeldPicture | MovingShot]) -> None:
    """The held pictures with the moving shots spliced between them, as one raw H.264 stream."""
    encoded = paths.encoded_pictures.read_bytes() if any(isinstance(item, HeldPicture) for item in planned) else b""
    pieces = [
        item.frames if isinstance(item, HeldPicture) else EncodedShot(paths.shot(item.scene).read_bytes(), item.frames)
        for item in planned
    ]
    paths.held_pictures.write_bytes(spliced_stream(encoded, pieces))


def _full_frame_picture_scenes(scenes: Sequence[NarratedScene], images: Mapping[str, Path]) -> set[int]:
    """The scenes (by index) whose picture (not video) fills the frame: in a basic lesson, the ones that move."""
    return {
        index
        for index, item in enumerate(scenes)
        if item.scene is not None
        and item.scene.visual_placement == "full_frame"
        and item.scene.scene_id in images
        and not is_uploaded_video(item.scene.visual or "")
    }


@dataclass(frozen=True)
class _SceneVideo:
    path: Path
    size: tuple[int, int]  # as it is shown (and decoded): a quarter turn already applied
    start_sec: float = 0.0  # where in the video the scene starts showing it
    end_sec: float | None = None  # where it stops (its frame there then holds); None: its end


async def _probed_videos(scenes: Sequence[NarratedScene], images: Mapping[str, Path]) -> dict[int, _SceneVideo]:
    """Every scene's video visual (by scene index) with its size and start; one that cannot be decoded, has no video
    stream or would start past its end fails the job (non-retryable), naming the scene and its key."""
    videos: dict[int, _SceneVideo] = {}
    for index, item in enumerate(scenes):
        if item.scene is None or not is_uploaded_video(item.scene.visual or ""):
            continue
        path = images.get(item.scene.scene_id)
        if path is None:
            continue
        key = (item.scene.visual or "").strip()
        details = {"key": key, "scene_id": item.scene.scene_id}
        try:
            info = await probe_media(path)
        except MediaInvalidError as exc:
            raise MediaInvalidError(
                f"{item.name}'s visual {key!r} cannot be decoded: {exc.message}", details=details
            ) from exc
        stream = info.first("video")
        width, height = (stream.display_width, stream.display_height) if stream else (None, None)
        if stream is None or not width or not height:
            raise MediaInvalidError(
                f"{item.name}'s visual {key!r} has no video stream to show; upload a video, or a picture",
                details=details,
            )
        start = item.scene.visual_start_sec
        if start > 0 and info.duration_sec > 0 and start >= info.duration_sec:
            raise MediaInvalidError(
                f"{item.name}'s visual_start_sec is {start:g} s but its video {key!r} lasts {info.duration_sec:.2f} s; "
                "start it before its end, or at 0",
                details=details,
            )
        videos[index] = _SceneVideo(path, (width, height), start, item.scene.visual_end_sec)
    return videos


def _backdrop(
    paths: _WorkPaths, index: int, videos: Mapping[int, _SceneVideo], windows: Mapping[int, Window | None]
) -> PictureBackdrop | VideoBackdrop:
    """What moves under scene ``index``'s still overlay: its video (in its window, if beside the text), or its
    full-frame picture with the Ken Burns move an animated lesson would give the scene."""
    video = videos.get(index)
    if video is not None:
        return VideoBackdrop(video.path, windows.get(index), video.start_sec, video.end_sec)
    return PictureBackdrop(paths.backdrop(index), move_for_scene(index))


async def _make_soundtrack(
    paths: _WorkPaths,
    scenes: Sequence[NarratedScene],
    timeline: Timeline,
    music: MusicBed | None,
    cancel: CancelToken | None,
    timeout_sec: float,
) -> float:
    """Measure the narration, then level it (and mix the music in) and encode it; returns the encoded loudness."""
    audio = [item.audio_path for item in scenes]
    durations = [timeline.duration_sec(index) for index in range(len(timeline))]
    levelling = await narration_levelling(
        audio, durations, layout=soundtrack_layout(music), timeout_sec=timeout_sec, cancel=cancel
    )
    encoded = await run_process(
        soundtrack_args(
            audio, durations, paths.soundtrack, levelling=levelling, music=music, total_sec=timeline.total_sec
        ),
        timeout_sec=timeout_sec,
        cancel=cancel,
    )
    return parse_integrated_lufs(encoded.stderr)


def _log_loudness(loudness: float) -> None:
    if abs(loudness - TARGET_LUFS) > TOLERANCE_LU:
        # Silent or near-silent narration cannot be lifted to the target; the video is still usable.
        logger.warning("the composed lesson measures %.1f LUFS, off the %.0f LUFS target", loudness, TARGET_LUFS)
    else:
        logger.info("the composed lesson measures %.1f LUFS", loudness)


def _prepare(scenes: Sequence[NarratedScene], workdir: Path, fonts: FontSet) -> _WorkPaths:
    """Reject inputs no redelivery can fix, before any work is done, and create the work folders."""
    if not scenes:
        raise RenderError("a lesson needs at least one narrated scene to compose")
    for item in scenes:
        if not math.isfinite(item.duration_sec) or item.duration_sec <= 0:
            raise RenderError(f"{item.name}: narration duration must be a positive number, got {item.duration_sec}")
        if not item.audio_path.is_file():
            raise RenderError(f"{item.name}: narration audio {item.audio_path} is missing")
    paths = _WorkPaths(workdir.resolve())
    paths.concat_list.parent.mkdir(parents=True, exist_ok=True)
    subtitle_fonts_folder(fonts, paths.fonts)
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
    measured = await measure_integrated_lufs(path, timeout_sec=MUSIC_SCAN_TIMEOUT_SEC)
    return MusicBed(
        path=path, input_index=narration_count, volume=track.volume, gain_db=music_gain_db(measured, TARGET_LUFS)
    )


def _write_subtitle_files(
    paths: _WorkPaths,
    cues: list[Cue],
    chapters: list[ChapterMark],
    timeline: Timeline,
    plan: PartPlan | None,
    pictures: Sequence[HeldPicture | MovingShot] | None,
    size: tuple[int, int],
    subtitle_fonts: FontSet,
    burned: AssStyle | None,
) -> None:
    """The sidecars, and what a burn (in the ``burned`` style) needs: each animated part's own ASS, or the held
    pictures' slot ASS."""
    paths.srt.write_text(to_srt(cues), encoding="utf-8")
    paths.vtt.write_text(to_vtt(cues), encoding="utf-8")
    paths.chapters.write_text(chapters_txt(chapters, total_sec=timeline.total_sec), encoding="utf-8")
    if burned is None:
        return
    family = subtitle_fonts.family
    if pictures is not None:
        slots = picture_slot_cues([item for item in pictures if isinstance(item, HeldPicture)])
        paths.pictures_ass.write_text(to_ass(slots, size, family, style=burned), encoding="utf-8")
        for shot in (item for item in pictures if isinstance(item, MovingShot)):
            own = segment_cues(cues, timeline.start_sec(shot.scene), timeline.end_sec(shot.scene))
            paths.shot_ass(shot.scene).write_text(to_ass(own, size, family, style=burned), encoding="utf-8")
    if plan is not None:
        fps = timeline.fps
        for index, part in enumerate(plan.parts):
            own = segment_cues(cues, part.start / fps, part.end / fps)
            paths.ass(index).write_text(to_ass(own, size, family, style=burned), encoding="utf-8")


def earlier_points(scenes: Sequence[NarratedScene], index: int) -> tuple[str, ...]:
    """The key points of the scenes before ``index`` in its chapter (the bullets layout)."""
    chapter = scenes[index].chapter_title
    points: list[str] = []
    for item in scenes[:index]:
        if item.chapter_title != chapter:
            points = []
        elif item.scene is not None:
            points.append(SlideContent.for_scene(chapter, item.scene).headline)
    return tuple(points)


def _render_slide_file(
    content: SlideContent, size: tuple[int, int], fonts: FontSet, theme: SlideTheme, path: Path
) -> None:
    save_bitmap(render_scene_slide(content, size, fonts, theme), path)


def _render_layers(
    content: SlideContent,
    size: tuple[int, int],
    fonts: FontSet,
    theme: SlideTheme,
    paths: _WorkPaths,
    index: int,
    video_size: tuple[int, int] | None,
) -> Window | None:
    """A moving scene's still overlay, and for a full-frame picture its backdrop; returns where a video beside the
    text shows through its slide (None: the backdrop fills the frame)."""
    if content.image is None:
        raise RenderError(f"scene {index + 1} moves a visual it does not have")
    if video_size is not None and not content.full_frame:
        slide, window = render_slide_around(content, size, fonts, video_size, theme)
        save_png(slide, paths.overlay(index))
        return window
    if video_size is None:
        save_bitmap(picture_cover(content.image, size), paths.backdrop(index))
    save_png(render_text_over_backdrop(content, size, fonts, theme), paths.overlay(index))
    return None


@dataclass(frozen=True)
class _Cards:
    title: tuple[str, str]
    outro: tuple[str, str]


def _cards(spec: LessonSpec, scenes: Sequence[NarratedScene]) -> _Cards:
    """What the title card (and thumbnail) and the outro card show."""
    return _Cards(title=title_card_text(spec, scenes), outro=(spec.outro_text.strip(), spec.title.strip()))


def _card_scene(card: tuple[str, str], beside: NarratedScene, workdir: Path, name: str) -> NarratedScene:
    """A card as a scene of ``beside``'s chapter: :data:`CARD_SEC` of silence (the narration filter pads the
    short silent file to the card's length)."""
    silence = workdir / "parts" / f"{name}.wav"
    silence.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(silence), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_SAMPLE_RATE)
        out.writeframes(bytes(2 * AUDIO_SAMPLE_RATE // 10))
    return NarratedScene(
        chapter_title=beside.chapter_title, scene=None, audio_path=silence, duration_sec=CARD_SEC, card=card
    )


def _render_title_slide(
    title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, theme: SlideTheme, path: Path
) -> None:
    save_bitmap(render_title_card(title, subtitle, size, fonts, theme), path)


def _render_thumbnail_file(
    title: str, subtitle: str, size: tuple[int, int], fonts: FontSet, theme: SlideTheme, path: Path
) -> None:
    save_jpeg(render_title_card(title, subtitle, size, fonts, theme), path)


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
