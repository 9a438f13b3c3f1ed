"""A ranking job's own work: fetch and check every clip (and its announcement when the labels are narrated), then
encode the short's picture and its soundtrack side by side, and put them together into the delivered MP4 without
re-encoding. A picture clip is turned upright first, as FFmpeg (5.x) ignores a photo's EXIF orientation."""

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image, ImageOps, UnidentifiedImageError

from reelflow.compose.announcements import AnnouncementSlot, plan_announcements
from reelflow.compose.audio_mix import music_gain_db
from reelflow.compose.badges import write_badge
from reelflow.compose.composed_outputs import ComposedFiles, checked_duration
from reelflow.compose.ffmpeg import picture_and_soundtrack_mux_args
from reelflow.compose.fonts import FontSet
from reelflow.compose.loudness import TARGET_LUFS, measure_integrated_lufs, narration_levelling
from reelflow.compose.ranking import (
    ClipMedia,
    InputProblem,
    PlannedClip,
    RankingPlan,
    inspect_clip,
    is_still_image,
    plan_ranking,
    ranking_chapters_txt,
    ranking_cues,
    unusable_inputs_error,
)
from reelflow.compose.short_encoding import short_picture_args, short_soundtrack_args
from reelflow.compose.slides import render_title_card, save_png
from reelflow.compose.step_control import ProgressMeter, run_all_or_stop_all, step_deadline
from reelflow.compose.subtitles import to_srt, to_vtt
from reelflow.contracts import RankingClip, RankingSpec, SceneNarration, Step, announcement_id, frame_size
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import InvalidScriptError, MediaInvalidError
from reelflow.runtime.media_probe import MediaInfo, probe_media
from reelflow.runtime.processes import run_process
from reelflow.runtime.progress import ProgressReporter

# How COMPOSE_VIDEO's progress band is shared out: fetching, checking, encoding, then the final mux.
FETCHED_AT = 0.05
CHECKED_AT = 0.10
ENCODED_AT = 0.93
JOINED_AT = 0.97
# Progress weight of the soundtrack against one encoded frame: it reads and encodes only audio.
SOUNDTRACK_WEIGHT_PER_FRAME = 0.1


@dataclass(frozen=True)
class _WorkPaths:
    root: Path

    def source(self, clip: RankingClip) -> Path:
        return self.root / "sources" / f"rank-{clip.rank:03d}{_extension(clip.media_key)}"

    def upright(self, clip: RankingClip) -> Path:
        """A picture clip turned as its EXIF orientation says, flattened on black: what is encoded."""
        return self.root / "sources" / f"rank-{clip.rank:03d}-upright.png"

    def encoded_source(self, planned: PlannedClip) -> Path:
        return self.upright(planned.clip) if planned.still else self.source(planned.clip)

    def music(self, media_key: str) -> Path:
        return self.root / "sources" / f"music{_extension(media_key)}"

    def announcement(self, rank: int) -> Path:
        return self.root / "sources" / f"announce-{rank:03d}.wav"

    def badge(self, rank: int) -> Path:
        return self.root / "parts" / f"badge-{rank:03d}.png"

    @property
    def card(self) -> Path:
        return self.root / "parts" / "title-card.png"

    @property
    def picture(self) -> Path:
        return self.root / "parts" / "picture.mp4"

    @property
    def soundtrack(self) -> Path:
        return self.root / "parts" / "soundtrack.m4a"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def thumbnail(self) -> Path:
        """Written by the picture's encode (:func:`short_picture_args`), straight into the output folder."""
        return self.out / "thumb.jpg"

    def create(self) -> None:
        for folder in ("sources", "parts", "out"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)


def _extension(media_key: str) -> str:
    """The upload's extension, kept only as a hint for humans reading the work folder."""
    suffix = PurePosixPath(media_key).suffix
    return suffix if suffix.isascii() and suffix[1:].isalnum() and len(suffix) <= 6 else ""


async def compose_ranking(
    spec: RankingSpec,
    workdir: Path,
    *,
    blobs: BlobStore,
    media_bucket: str,
    fonts: FontSet,
    progress: ProgressReporter,
    cancel: CancelToken,
    parallelism: int,
    step_timeout_sec: float,
    narration: Sequence[SceneNarration] = (),
    work_bucket: str = "",
) -> ComposedFiles:
    """Make ``video.mp4``, ``thumb.jpg`` and the SRT/VTT/chapters sidecars of a ranking short in ``workdir``.

    Every input is fetched and probed before anything is encoded; all the unusable ones are reported in
    one :class:`MediaInvalidError`. When the spec names a voice, each clip's announcement (``narration``, by
    :func:`announcement_id`, from ``work_bucket``) is laid over the soundtrack at its clip's start. The whole step
    must finish within ``step_timeout_sec`` (:class:`StepTimeoutError`), and ``cancel`` stops it
    (:class:`JobCanceledError`).
    """
    announced = _announcements_of(spec, narration)
    paths = _WorkPaths(workdir)
    await asyncio.to_thread(paths.create)
    gate = asyncio.Semaphore(max(1, parallelism))
    async with step_deadline(Step.COMPOSE_VIDEO, step_timeout_sec, cancel):

        async def fetch_and_check() -> RankingPlan:
            await progress.report(Step.COMPOSE_VIDEO, 0.0, "fetching clips")
            missing = await _fetch_inputs(spec, blobs, media_bucket, paths, gate)
            await run_all_or_stop_all(
                [
                    blobs.get_file(work_bucket, item.audio_key, paths.announcement(rank))
                    for rank, item in announced.items()
                ]
            )
            await progress.report(Step.COMPOSE_VIDEO, FETCHED_AT, "checking clips")
            return await _check_inputs(spec, paths, missing, gate)

        # The badges and the card need only the spec: they are drawn while the inputs are fetched and probed.
        checked = asyncio.ensure_future(fetch_and_check())
        await run_all_or_stop_all([checked, asyncio.to_thread(_write_overlays, spec, fonts, paths)])
        plan = checked.result()
        await progress.report(Step.COMPOSE_VIDEO, CHECKED_AT, f"encoding {len(plan.clips)} clips")
        music = paths.music(spec.music.media_key) if spec.music is not None else None
        volume = spec.music.volume if spec.music is not None else 0.0
        slots = plan_announcements(plan, {rank: item.duration_sec for rank, item in announced.items()})
        await _encode_picture_and_soundtrack(
            plan, paths, music, volume, slots, progress=progress, cancel=cancel, timeout_sec=step_timeout_sec
        )
        duration = await _join(plan, paths, progress, cancel, step_timeout_sec)
        files = ComposedFiles(
            video=paths.out / "video.mp4",
            subtitles_srt=paths.out / "subtitles.srt",
            subtitles_vtt=paths.out / "subtitles.vtt",
            thumbnail=paths.thumbnail,
            chapters=paths.out / "chapters.txt",
            duration_sec=duration,
        )
        await asyncio.to_thread(_write_sidecars, plan, files)
    return files


def _announcements_of(spec: RankingSpec, narration: Sequence[SceneNarration]) -> dict[int, SceneNarration]:
    """Each clip's announcement by rank when the labels are narrated (none without a voice); a clip the narration
    has no announcement for is an invalid job."""
    if spec.voice is None:
        return {}
    by_id = {item.scene_id: item for item in narration}
    missing = [clip.rank for clip in spec.clips if announcement_id(clip.rank) not in by_id]
    if missing:
        raise InvalidScriptError(
            f"the labels are narrated but clips {missing} have no announcement in rf.render.narrated",
            details={"ranks": missing},
        )
    return {clip.rank: by_id[announcement_id(clip.rank)] for clip in spec.clips}


async def _fetch_inputs(
    spec: RankingSpec, blobs: BlobStore, bucket: str, paths: _WorkPaths, gate: asyncio.Semaphore
) -> list[InputProblem]:
    """Download every clip and the music; the keys missing from the media bucket are returned, not raised."""
    missing: list[InputProblem] = []

    async def fetch(media_key: str, path: Path, clip: RankingClip | None) -> None:
        async with gate:
            if await blobs.stat(bucket, media_key) is None:
                reason = f"it is not in the media bucket {bucket!r}"
                missing.append(InputProblem.of_clip(clip, reason) if clip else InputProblem.of_music(media_key, reason))
                return
            await blobs.get_file(bucket, media_key, path)

    jobs = [fetch(clip.media_key, paths.source(clip), clip) for clip in spec.clips]
    if spec.music is not None:
        jobs.append(fetch(spec.music.media_key, paths.music(spec.music.media_key), None))
    await run_all_or_stop_all(jobs)
    return missing


async def _probe(path: Path) -> MediaInfo | str:
    """The file's media summary, or why ffprobe could not read it."""
    try:
        return await probe_media(path)
    except MediaInvalidError as exc:
        detail = exc.message.strip().splitlines()[-1].replace(f"{path}: ", "").replace(str(path), path.name)
        return f"it is not readable media ({detail[-200:]})"


async def _check_inputs(
    spec: RankingSpec, paths: _WorkPaths, missing: list[InputProblem], gate: asyncio.Semaphore
) -> RankingPlan:
    """Probe every fetched input and plan the short, or raise one error naming every unusable input."""
    problems = list(missing)
    absent = {problem.media_key for problem in missing}
    media: dict[int, ClipMedia] = {}

    async def check_clip(clip: RankingClip) -> None:
        async with gate:
            probed = await _probe(paths.source(clip))
            if not isinstance(probed, str) and is_still_image(probed):
                upright = await asyncio.to_thread(_upright_picture, paths.source(clip), paths.upright(clip))
                probed = await _probe(paths.upright(clip)) if upright is None else upright
        inspected = probed if isinstance(probed, str) else inspect_clip(clip, probed)
        if isinstance(inspected, str):
            problems.append(InputProblem.of_clip(clip, inspected))
        else:
            media[clip.rank] = inspected

    async def check_music(media_key: str) -> None:
        async with gate:
            probed = await _probe(paths.music(media_key))
        if isinstance(probed, str):
            problems.append(InputProblem.of_music(media_key, probed))
        elif probed.first("audio") is None:
            problems.append(InputProblem.of_music(media_key, "it has no audio stream"))

    jobs = [check_clip(clip) for clip in spec.clips if clip.media_key not in absent]
    if spec.music is not None and spec.music.media_key not in absent:
        jobs.append(check_music(spec.music.media_key))
    await run_all_or_stop_all(jobs)
    if problems:
        ranks = [clip.rank for clip in spec.clips]  # report in the order the user listed them, music last
        problems.sort(key=lambda problem: ranks.index(problem.clip.rank) if problem.clip else len(ranks))
        raise unusable_inputs_error(problems)
    return plan_ranking(spec, media)


def _upright_picture(source: Path, out: Path) -> str | None:
    """Write ``source`` turned as its EXIF orientation says (a phone photo taken upright), its transparency
    flattened on black, as a PNG to ``out``; or say why Pillow cannot read it."""
    try:
        with Image.open(source) as opened:
            turned = ImageOps.exif_transpose(opened).convert("RGBA")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        return f"it is not a readable picture ({exc})"
    flat = Image.new("RGBA", turned.size, (0, 0, 0, 255))
    save_png(Image.alpha_composite(flat, turned).convert("RGB"), out)
    return None


def _write_overlays(spec: RankingSpec, fonts: FontSet, paths: _WorkPaths) -> None:
    """Every clip's badge PNG, and the title card's when the spec asks for one: they depend on the spec alone."""
    size = frame_size(spec.size)
    for clip in spec.clips:
        write_badge(clip.rank, clip.label, size, fonts, paths.badge(clip.rank), title=spec.title)
    if spec.title_card:
        save_png(render_title_card(spec.title, "", size, fonts), paths.card)


async def _encode_picture_and_soundtrack(
    plan: RankingPlan,
    paths: _WorkPaths,
    music: Path | None,
    music_volume: float,
    announcements: Sequence[AnnouncementSlot],
    *,
    progress: ProgressReporter,
    cancel: CancelToken,
    timeout_sec: float,
) -> None:
    """Encode the picture and the soundtrack side by side (the picture's encoder uses every core).

    The announcements are levelled together, by one gain, to the published loudness, as a lesson's narration is.
    """
    sources = [paths.encoded_source(planned) for planned in plan.clips]
    badges = [paths.badge(planned.rank) for planned in plan.clips]
    meter = ProgressMeter(
        functools.partial(progress.report, message=f"encoding {len(plan.clips)} clips"),
        Step.COMPOSE_VIDEO,
        [float(plan.total_frames), plan.total_frames * SOUNDTRACK_WEIGHT_PER_FRAME],
        (CHECKED_AT, ENCODED_AT),
    )

    async def picture() -> None:
        await run_process(
            short_picture_args(
                plan,
                sources,
                badges,
                paths.picture,
                card=paths.card if plan.card_frames else None,
                thumbnail=paths.thumbnail,
            ),
            timeout_sec=timeout_sec,
            cancel=cancel,
            expected_duration_sec=plan.total_sec,
            on_progress=meter.reporter(0),
        )
        await meter.update(0, 1.0)

    async def soundtrack() -> None:
        gain_db = 0.0
        if music is not None:
            measured = await measure_integrated_lufs(music, timeout_sec=timeout_sec, cancel=cancel)
            gain_db = music_gain_db(measured, TARGET_LUFS)
        announced = [(paths.announcement(slot.rank), slot) for slot in announcements]
        levelling = "anull"
        if announced:
            levelled = await narration_levelling(
                [path for path, _ in announced],
                [slot.play_sec for _, slot in announced],
                timeout_sec=timeout_sec,
                layout="stereo",
                cancel=cancel,
            )
            levelling = levelled.filter()
        await run_process(
            short_soundtrack_args(
                plan,
                sources,
                paths.soundtrack,
                music_path=music,
                music_volume=music_volume,
                music_gain_db=gain_db,
                announcements=announced,
                announcement_levelling=levelling,
            ),
            timeout_sec=timeout_sec,
            cancel=cancel,
        )
        await meter.update(1, 1.0)

    await run_all_or_stop_all([picture(), soundtrack()])


async def _join(
    plan: RankingPlan, paths: _WorkPaths, progress: ProgressReporter, cancel: CancelToken, timeout_sec: float
) -> float:
    """Put the picture and the soundtrack into the delivered MP4, copying both."""
    video = paths.out / "video.mp4"
    meter = ProgressMeter(
        functools.partial(progress.report, message="joining the clips"),
        Step.COMPOSE_VIDEO,
        [1.0],
        (ENCODED_AT, JOINED_AT),
    )
    await run_process(
        picture_and_soundtrack_mux_args(
            paths.picture, paths.soundtrack, video, fps=plan.fps, total_duration_sec=plan.total_sec
        ),
        timeout_sec=timeout_sec,
        cancel=cancel,
        expected_duration_sec=plan.total_sec,
        on_progress=meter.reporter(0),
    )
    return await checked_duration(video, plan.total_sec, described_as="ranking short", made_of="clips")


def _write_sidecars(plan: RankingPlan, files: ComposedFiles) -> None:
    cues = ranking_cues(plan)
    files.subtitles_srt.write_text(to_srt(cues), encoding="utf-8")
    files.subtitles_vtt.write_text(to_vtt(cues), encoding="utf-8")
    files.chapters.write_text(ranking_chapters_txt(plan), encoding="utf-8")
