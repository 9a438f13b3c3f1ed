"""compose_narrated_job on a ranking spec, on real FFmpeg: tiny mixed clips in a directory blob store become a short."""

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from tests.bus_recording import RecordingBus
from tests.media_probes import integrated_lufs
from tests.media_probes import make_tone as make_quiet_tone
from tests.unit.compose.clip_factory import (
    ClipRecipe,
    frame_rgb,
    make_clip,
    make_edge_marked_clip,
    make_late_sound_clip,
    make_still,
    make_tone,
    make_truncated,
    max_volume_db,
    pixel,
    probe_streams,
)

from reelflow.compose.badges import BADGE_FILL, layout_badge
from reelflow.compose.compose_step import compose_narrated_job
from reelflow.compose.composed_upload import output_key
from reelflow.compose.fonts import FontSet
from reelflow.compose.ranking import ClipMedia, RankingPlan, plan_ranking
from reelflow.compose.settings import ComposeSettings
from reelflow.compose.subtitles import youtube_timestamp
from reelflow.contracts import (
    ErrorCode,
    MusicTrack,
    ProgressUpdate,
    RankingClip,
    RankingSpec,
    RenderComposed,
    RenderNarrated,
    Step,
)
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, MediaInvalidError, StepTimeoutError
from reelflow.runtime.media_probe import probe_media
from reelflow.runtime.progress import ProgressReporter

# Distinct, saturated colours that survive YUV 4:2:0 and H.264 and differ from the gold badge.
RED, GREEN, BLUE = (255, 0, 0), (0, 128, 0), (0, 0, 255)
RECIPES = {
    3: ClipRecipe(colour="red", size="640x360", fps=25, seconds=2.0, tone_hz=440),  # wide, audio kept
    2: ClipRecipe(colour="green", size="360x640", fps=30, seconds=2.0, tone_hz=None),  # tall, no audio stream
    1: ClipRecipe(colour="blue", size="480x480", fps=24, seconds=2.0, tone_hz=880),  # square, audio muted
}
COLOURS = {3: RED, 2: GREEN, 1: BLUE}
CLIPS = [
    # Deliberately not in countdown order; #1's end lies past the clip's end and is clamped.
    RankingClip(media_key="uploads/blue.mp4", rank=1, label="우승 Winner", end=5.0, keep_audio=False),
    RankingClip(media_key="uploads/red.mp4", rank=3, label="빨강"),
    RankingClip(media_key="uploads/green.mp4", rank=2, label="Green", start=0.5, end=2.0),
]
TITLE = "Top 3 colours"
COLOUR_TOLERANCE = 60
SILENT_DB = -60.0


@dataclass(frozen=True)
class Composed:
    event: RenderComposed
    blobs: DirectoryBlobStore
    root: Path
    settings: ComposeSettings
    bus: RecordingBus
    plan: RankingPlan

    def scratch_file(self, key: str) -> Path:
        return _scratch_file(self.root, self.settings, key)


def _scratch_file(root: Path, settings: ComposeSettings, key: str) -> Path:
    """Where a DirectoryBlobStore rooted at ``root`` keeps a scratch key."""
    return root / settings.work_bucket / key


def _settings() -> ComposeSettings:
    return ComposeSettings(compose_parallelism=2, compose_step_timeout_sec=240)


def _narrated(spec: RankingSpec, job_id: str) -> RenderNarrated:
    return RenderNarrated(job_id=job_id, video_id="video-1", attempt=1, spec=spec, narration=[])


def _close(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= COLOUR_TOLERANCE for a, b in zip(colour, expected, strict=True))


async def _compose(
    spec: RankingSpec,
    blobs: DirectoryBlobStore,
    settings: ComposeSettings,
    fonts: FontSet,
    *,
    job_id: str,
    cancel: CancelToken | None = None,
) -> tuple[RenderComposed, RecordingBus]:
    bus = RecordingBus()
    composed = await compose_narrated_job(
        _narrated(spec, job_id),
        blobs=blobs,
        settings=settings,
        fonts=fonts,
        progress=ProgressReporter(bus, job_id=job_id, attempt=1, min_interval_sec=0),
        cancel=cancel or CancelToken(),
    )
    return composed, bus


async def _store_with(root: Path, settings: ComposeSettings, files: dict[str, Path]) -> DirectoryBlobStore:
    blobs = DirectoryBlobStore(root)
    await blobs.ensure_buckets(settings.work_bucket, settings.media_bucket)
    for key, path in files.items():
        await blobs.put_file(settings.media_bucket, key, path, "application/octet-stream")
    return blobs


async def _plan_for(spec: RankingSpec, files: dict[int, Path]) -> RankingPlan:
    """The plan the job made, rebuilt from the same probes, to know where each clip should be."""
    media = {}
    for clip in spec.clips:
        info = await probe_media(files[clip.rank])
        video = info.first("video")
        assert video is not None and video.width and video.height
        media[clip.rank] = ClipMedia(info.duration_sec, video.width, video.height, info.first("audio") is not None)
    return plan_ranking(spec, media)


def _interior(plan: RankingPlan, index: int, margin: float = 0.1) -> tuple[float, float]:
    """(start, seconds) of the part of a clip's window clear of both transitions."""
    start = plan.start_sec(index) + (plan.transition_sec if index else 0.0) + margin
    end = plan.start_sec(index + 1) - margin if index + 1 < len(plan.clips) else plan.total_sec - margin
    return start, end - start


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    assert not missing, f"ranking tests need {missing} (apt-get install ffmpeg)"
    folder = tmp_path_factory.mktemp("ranking-clips")
    return {rank: make_clip(recipe, folder / f"rank-{rank}.mp4") for rank, recipe in RECIPES.items()}


@pytest.fixture(scope="module")
async def composed(tmp_path_factory: pytest.TempPathFactory, clip_files: dict[int, Path], fonts: FontSet) -> Composed:
    """One short from the three mixed clips, composed once for the module."""
    settings = _settings()
    root = tmp_path_factory.mktemp("ranking-blobs")
    blobs = await _store_with(root, settings, {clip.media_key: clip_files[clip.rank] for clip in CLIPS})
    spec = RankingSpec(clips=CLIPS, title=TITLE)
    event, bus = await _compose(spec, blobs, settings, fonts, job_id="job-ranking")
    return Composed(event, blobs, root, settings, bus, await _plan_for(spec, clip_files))


async def test_the_short_is_1080x1920_at_a_constant_30_fps_with_h264_and_aac(composed: Composed) -> None:
    video = composed.scratch_file(composed.event.outputs.video)
    streams = probe_streams(video)["streams"]
    assert isinstance(streams, list)
    picture = next(stream for stream in streams if stream["codec_type"] == "video")
    sound = next(stream for stream in streams if stream["codec_type"] == "audio")
    assert (picture["codec_name"], picture["width"], picture["height"]) == ("h264", 1080, 1920)
    assert picture["pix_fmt"] == "yuv420p"
    assert picture["r_frame_rate"] == picture["avg_frame_rate"] == "30/1"
    assert int(picture["nb_frames"]) == composed.plan.total_frames
    assert (sound["codec_name"], sound["sample_rate"]) == ("aac", "48000")


async def test_the_short_lasts_the_clips_minus_one_transition_per_join(composed: Composed) -> None:
    plan = composed.plan
    assert [planned.frames for planned in plan.clips] == [60, 45, 60]  # 2 s, 0.5–2.0 s, 2 s (end clamped)
    assert plan.total_frames == 60 + 45 + 60 - 2 * 12
    info = await probe_media(composed.scratch_file(composed.event.outputs.video))
    assert info.duration_sec == pytest.approx(plan.total_sec, abs=0.1)
    assert composed.event.duration_sec == pytest.approx(plan.total_sec, abs=0.1)


async def test_the_clips_play_as_a_countdown_and_fill_the_frame(composed: Composed) -> None:
    video = composed.scratch_file(composed.event.outputs.video)
    assert [planned.rank for planned in composed.plan.clips] == [3, 2, 1]
    for index, planned in enumerate(composed.plan.clips):
        start, seconds = _interior(composed.plan, index)
        frame = frame_rgb(video, start + seconds / 2)
        expected = COLOURS[planned.rank]
        # The centre and the bottom corners show the clip: cropped to fill 9:16, no bars.
        for x, y in [(540, 1200), (4, 1915), (1075, 1915)]:
            assert _close(pixel(frame, x, y), expected), (planned.rank, (x, y), pixel(frame, x, y))


async def test_each_clip_carries_its_rank_badge_at_the_top(composed: Composed, fonts: FontSet) -> None:
    video = composed.scratch_file(composed.event.outputs.video)
    for index, planned in enumerate(composed.plan.clips):
        left, top, right, bottom = layout_badge(planned.rank, planned.clip.label, (1080, 1920), fonts, title=TITLE).pill
        assert top >= 0.05 * 1920 and left >= 0.05 * 1080 and right <= 0.95 * 1080
        start, seconds = _interior(composed.plan, index)
        frame = frame_rgb(video, start + seconds / 2)
        # Above the "#N" text, inside the pill: badge gold, where the un-badged clip is its own colour.
        badge_pixel = pixel(frame, (left + right) // 2, top + (bottom - top) // 8)
        assert _close(badge_pixel, BADGE_FILL), (planned.rank, badge_pixel)
        assert not _close(badge_pixel, COLOURS[planned.rank])


async def test_muted_and_soundless_clips_are_silent_and_a_kept_clip_is_heard(composed: Composed) -> None:
    video = composed.scratch_file(composed.event.outputs.video)
    loudness = {}
    for index, planned in enumerate(composed.plan.clips):
        start, seconds = _interior(composed.plan, index)
        loudness[planned.rank] = max_volume_db(video, start_sec=start, seconds=seconds)
    assert loudness[3] > -30.0, loudness  # kept, normalised towards -16 LUFS
    assert loudness[2] < SILENT_DB, loudness  # the file has no audio stream
    assert loudness[1] < SILENT_DB, loudness  # keep_audio=False


async def test_the_thumbnail_is_the_winner_with_its_badge(composed: Composed, fonts: FontSet) -> None:
    thumb = composed.scratch_file(composed.event.outputs.thumbnail)
    with Image.open(thumb) as image:
        assert image.format == "JPEG"
        assert image.size == (1080, 1920)
        frame = (1080, 1920, image.convert("RGB").tobytes())
    left, top, right, bottom = layout_badge(1, "우승 Winner", (1080, 1920), fonts, title=TITLE).pill
    assert _close(pixel(frame, 540, 1200), BLUE)
    assert _close(pixel(frame, (left + right) // 2, top + (bottom - top) // 8), BADGE_FILL)


async def test_chapters_and_captions_list_every_clip_in_countdown_order(composed: Composed) -> None:
    outputs = composed.event.outputs
    assert outputs.chapters is not None and outputs.subtitles_srt is not None and outputs.subtitles_vtt is not None
    chapters = composed.scratch_file(outputs.chapters).read_text(encoding="utf-8").splitlines()
    assert chapters == [
        f"{youtube_timestamp(composed.plan.shown_from_sec(0))} #3 빨강",
        f"{youtube_timestamp(composed.plan.shown_from_sec(1))} #2 Green",
        f"{youtube_timestamp(composed.plan.shown_from_sec(2))} #1 우승 Winner",
    ]
    srt = composed.scratch_file(outputs.subtitles_srt).read_text(encoding="utf-8")
    assert srt.index("#3 빨강") < srt.index("#2 Green") < srt.index("#1 우승 Winner")
    assert composed.scratch_file(outputs.subtitles_vtt).read_text(encoding="utf-8").startswith("WEBVTT")


async def test_progress_climbs_through_compose_video_to_its_end(composed: Composed) -> None:
    reported = composed.bus.progress()
    assert len(reported) >= 4
    assert reported == sorted(reported)
    assert reported[0] == 60 and reported[-1] == 85
    updates = [event for event in composed.bus.events if isinstance(event, ProgressUpdate)]
    assert {update.step for update in updates} == {Step.COMPOSE_VIDEO}


async def test_a_finished_attempt_is_answered_from_its_manifest(composed: Composed, fonts: FontSet) -> None:
    # Pointed at an empty media bucket, a second run could only succeed by not fetching anything.
    settings = composed.settings.model_copy(update={"media_bucket": "no-such-bucket"})
    again, bus = await _compose(
        RankingSpec(clips=CLIPS, title=TITLE), composed.blobs, settings, fonts, job_id="job-ranking"
    )
    assert again == composed.event
    assert bus.progress() == []


async def test_music_is_laid_under_the_clips_for_the_planned_length(
    tmp_path: Path, clip_files: dict[int, Path], fonts: FontSet
) -> None:
    settings = _settings()
    music = make_tone(tmp_path / "bed.m4a", seconds=1.5, hz=300)  # shorter than the short: it loops
    clips = [
        RankingClip(media_key="uploads/red.mp4", rank=2, label="kept"),
        RankingClip(media_key="uploads/blue.mp4", rank=1, label="muted", keep_audio=False),
    ]
    blobs = await _store_with(
        tmp_path / "blobs",
        settings,
        {"uploads/red.mp4": clip_files[3], "uploads/blue.mp4": clip_files[1], "uploads/bed.m4a": music},
    )
    spec = RankingSpec(clips=clips, music=MusicTrack(media_key="uploads/bed.m4a", volume=0.3))
    event, _ = await _compose(spec, blobs, settings, fonts, job_id="job-music")

    plan = await _plan_for(spec, {2: clip_files[3], 1: clip_files[1]})
    video = _scratch_file(tmp_path / "blobs", settings, event.outputs.video)
    info = await probe_media(video)
    assert info.first("audio") is not None
    assert info.duration_sec == pytest.approx(plan.total_sec, abs=0.1)
    # The muted clip's window now carries the (unducked) music; before the fade-out at the end.
    start, _ = _interior(plan, 1)
    assert max_volume_db(video, start_sec=start, seconds=0.4) > -45.0


@pytest.mark.parametrize("music_volume", [0.3, 1.0])
async def test_music_under_muted_clips_plays_at_the_published_loudness_however_quiet_the_file(
    tmp_path: Path, clip_files: dict[int, Path], fonts: FontSet, music_volume: float
) -> None:
    """The issue measured a muted clip with music at volume 0.3 at about -40 dB: the bed kept the file's own
    (quiet) level times the volume. With no clip sound to sit under, the music is the soundtrack."""
    settings = _settings()
    quiet = make_quiet_tone(tmp_path / "quiet.m4a", seconds=4.0, frequency=300, volume=0.1)
    assert integrated_lufs(quiet) < -30.0
    clips = [
        RankingClip(media_key="uploads/red.mp4", rank=2, keep_audio=False),
        RankingClip(media_key="uploads/blue.mp4", rank=1, keep_audio=False),
    ]
    blobs = await _store_with(
        tmp_path / "blobs",
        settings,
        {"uploads/red.mp4": clip_files[3], "uploads/blue.mp4": clip_files[1], "uploads/quiet.m4a": quiet},
    )
    spec = RankingSpec(clips=clips, music=MusicTrack(media_key="uploads/quiet.m4a", volume=music_volume))
    event, _ = await _compose(spec, blobs, settings, fonts, job_id=f"job-quiet-{music_volume}")

    video = _scratch_file(tmp_path / "blobs", settings, event.outputs.video)
    assert integrated_lufs(video) == pytest.approx(-16.0, abs=1.5)


@pytest.mark.parametrize(("framing", "edge_shown"), [("auto", True), ("fill", False)])
async def test_a_wide_clip_is_shown_whole_over_its_blurred_self_unless_it_asks_to_fill(
    tmp_path: Path, fonts: FontSet, framing: str, edge_shown: bool
) -> None:
    """A 16:9 clip with a white strip down its left edge: cropped to 9:16 (the old only way) the strip is cut
    away with two thirds of the picture; fitted whole, it is on screen, and the frame above and below the clip
    is its blurred red, not black bars."""
    settings = _settings()
    wide = make_edge_marked_clip(tmp_path / "wide.mp4")
    blobs = await _store_with(tmp_path / "blobs", settings, {"uploads/wide.mp4": wide})
    clip = RankingClip.model_validate({"media_key": "uploads/wide.mp4", "rank": 1, "framing": framing})
    spec = RankingSpec(clips=[clip])
    event, _ = await _compose(spec, blobs, settings, fonts, job_id=f"job-framing-{framing}")

    frame = frame_rgb(_scratch_file(tmp_path / "blobs", settings, event.outputs.video), 1.0)
    strip = pixel(frame, 40, 960)  # where a fitted clip's left edge lands, halfway down the frame
    assert _close(strip, (255, 255, 255)) == edge_shown, strip
    for x, y in [(540, 1500), (540, 1915)]:  # below a fitted clip: the blurred backdrop, still red
        assert _close(pixel(frame, x, y), RED), (x, y, pixel(frame, x, y))


async def test_a_letterboxed_clip_is_shown_whole_on_black_bars(tmp_path: Path, fonts: FontSet) -> None:
    settings = _settings()
    wide = make_edge_marked_clip(tmp_path / "wide.mp4")
    blobs = await _store_with(tmp_path / "blobs", settings, {"uploads/wide.mp4": wide})
    clip = RankingClip.model_validate({"media_key": "uploads/wide.mp4", "rank": 1, "framing": "letterbox"})
    event, _ = await _compose(RankingSpec(clips=[clip]), blobs, settings, fonts, job_id="job-framing-letterbox")

    frame = frame_rgb(_scratch_file(tmp_path / "blobs", settings, event.outputs.video), 1.0)
    assert _close(pixel(frame, 40, 960), (255, 255, 255)), "the clip's left edge is on screen"
    assert _close(pixel(frame, 540, 960), RED), "the clip itself, in the middle"
    for x, y in [(540, 1500), (540, 1915)]:  # below the clip: black bars, not a blurred backdrop
        assert max(pixel(frame, x, y)) < 24, (x, y, pixel(frame, x, y))


async def test_every_unusable_input_is_reported_at_once_before_any_encoding(
    tmp_path: Path, clip_files: dict[int, Path], fonts: FontSet
) -> None:
    settings = _settings()
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(bytes(range(256)) * 64)
    files = {
        "uploads/good.mp4": clip_files[3],
        "uploads/noise.mp4": noise,
        "uploads/tone.m4a": make_tone(tmp_path / "tone.m4a", seconds=1.0),
        "uploads/still.mp4": make_still(tmp_path / "still.png"),
        "uploads/cut.mp4": make_truncated(clip_files[2], tmp_path / "cut.mp4"),
    }
    blobs = await _store_with(tmp_path / "blobs", settings, files)
    bad = [
        RankingClip(media_key="uploads/noise.mp4", rank=5, label="Random bytes"),
        RankingClip(media_key="uploads/tone.m4a", rank=4, label="Only sound"),
        RankingClip(media_key="uploads/still.mp4", rank=3, label="A still", end=0.5),  # a picture, too briefly
        RankingClip(media_key="uploads/cut.mp4", rank=2, label="Cut short"),
        RankingClip(media_key="uploads/gone.mp4", rank=1, label="Never uploaded"),
    ]
    spec = RankingSpec(
        clips=[RankingClip(media_key="uploads/good.mp4", rank=6, label="Fine"), *bad],
        music=MusicTrack(media_key="uploads/no-music.mp3"),
    )
    bus = RecordingBus()
    with pytest.raises(MediaInvalidError) as caught:
        await compose_narrated_job(
            _narrated(spec, "job-bad"),
            blobs=blobs,
            settings=settings,
            fonts=fonts,
            progress=ProgressReporter(bus, job_id="job-bad", attempt=1, min_interval_sec=0),
            cancel=CancelToken(),
        )
    error = caught.value
    assert error.code is ErrorCode.MEDIA_INVALID and not error.retryable
    for clip in bad:
        assert f"#{clip.rank} '{clip.label}' ({clip.media_key})" in error.message
    assert "uploads/no-music.mp3" in error.message
    assert "uploads/good.mp4" not in error.message
    reasons = {problem["media_key"]: problem["reason"] for problem in error.details["problems"]}
    assert len(reasons) == 6
    assert "no video stream" in reasons["uploads/tone.m4a"]
    assert "it is a picture, shown for end - start = 0.5s" in reasons["uploads/still.mp4"]
    assert "not readable" in reasons["uploads/noise.mp4"] and "not readable" in reasons["uploads/cut.mp4"]
    assert "not in the media bucket" in reasons["uploads/gone.mp4"]
    # Nothing was encoded: progress stopped at the check and no output reached scratch.
    assert max(bus.progress()) <= 62
    assert await blobs.stat(settings.work_bucket, output_key("job-bad", 1, "video.mp4")) is None


async def test_a_clip_whose_sound_starts_late_stays_in_sync(tmp_path: Path, fonts: FontSet) -> None:
    source = make_late_sound_clip(tmp_path / "late.mp4", work=tmp_path)
    settings = _settings()
    blobs = await _store_with(tmp_path / "blobs", settings, {"late.mp4": source})
    spec = RankingSpec(clips=[RankingClip(media_key="late.mp4", rank=1, start=0.2)], size="180x320")
    event, _ = await _compose(spec, blobs, settings, fonts, job_id="job-late")
    short = _scratch_file(tmp_path / "blobs", settings, event.outputs.video)
    # In the source, the picture turns white and the tone starts at 1.0 s: 0.8 s into the trimmed clip.
    assert _close(pixel(frame_rgb(short, 0.7), 90, 250), (0, 0, 0))
    assert _close(pixel(frame_rgb(short, 0.9), 90, 250), (255, 255, 255))
    assert max_volume_db(short, start_sec=0.55, seconds=0.2) < SILENT_DB
    assert max_volume_db(short, start_sec=0.85, seconds=0.2) > -30.0


async def test_a_canceled_job_stops_before_composing(
    tmp_path: Path, clip_files: dict[int, Path], fonts: FontSet
) -> None:
    settings = _settings()
    blobs = await _store_with(tmp_path / "blobs", settings, {"uploads/red.mp4": clip_files[3]})
    token = CancelToken()
    token.cancel("user pressed cancel")
    spec = RankingSpec(clips=[RankingClip(media_key="uploads/red.mp4", rank=1)])
    with pytest.raises(JobCanceledError):
        await _compose(spec, blobs, settings, fonts, job_id="job-cancel", cancel=token)
    assert await blobs.stat(settings.work_bucket, output_key("job-cancel", 1, "video.mp4")) is None


async def test_a_step_that_overruns_its_timeout_fails_as_a_timeout(
    tmp_path: Path, clip_files: dict[int, Path], fonts: FontSet
) -> None:
    settings = ComposeSettings(compose_parallelism=1, compose_step_timeout_sec=0.05)
    blobs = await _store_with(tmp_path / "blobs", settings, {"uploads/red.mp4": clip_files[3]})
    spec = RankingSpec(clips=[RankingClip(media_key="uploads/red.mp4", rank=1)])
    with pytest.raises(StepTimeoutError) as caught:
        await _compose(spec, blobs, settings, fonts, job_id="job-slow")
    assert caught.value.code is ErrorCode.TIMEOUT
