"""Pictures as ranking clips and the short's title card: their planning and filter text (pure), then one tiny
short on real FFmpeg (a sideways-stored photo, a video clip, the card) to see that they move, open and stay in sync."""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pydantic import ValidationError
from tests.unit.compose.clip_factory import ClipRecipe, frame_rgb, make_clip, max_volume_db, probe_streams
from tests.unit.compose.test_compose_ranking_job import _compose, _scratch_file, _settings, _store_with

from reelflow.compose.announcements import plan_announcements
from reelflow.compose.fonts import FontSet
from reelflow.compose.motion import KenBurns
from reelflow.compose.ranking import (
    DEFAULT_CLIP_SEC,
    TITLE_CARD_SEC,
    ClipMedia,
    RankingPlan,
    inspect_clip,
    is_still_image,
    plan_ranking,
    ranking_chapters_txt,
    ranking_cues,
)
from reelflow.compose.short_encoding import clip_picture_filter, short_picture_args, short_soundtrack_args
from reelflow.contracts import RankingClip, RankingSpec
from reelflow.runtime.media_probe import MediaInfo, StreamInfo

WIDE = ClipMedia(duration_sec=20.0, width=640, height=360, has_audio=True)


def _clip(rank: int, **fields: object) -> RankingClip:
    return RankingClip.model_validate({"media_key": f"uploads/{rank}.png", "rank": rank, **fields})


def _spec(*clips: RankingClip, **fields: object) -> RankingSpec:
    return RankingSpec.model_validate({"clips": [clip.model_dump() for clip in clips], **fields})


def _picture(width: int = 800, height: int = 600) -> MediaInfo:
    """What ffprobe says of a PNG: one video stream, no duration, read by an image demuxer."""
    return MediaInfo(0.0, "png_pipe", (StreamInfo("video", "png", width, height, avg_frame_rate="25/1"),))


def _graph(args: list[str]) -> str:
    return args[args.index("-filter_complex") + 1]


# ---- pictures ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "seconds"),
    [({}, DEFAULT_CLIP_SEC), ({"end": 3.0}, 3.0), ({"start": 1.0, "end": 3.5}, 2.5), ({"start": 5.0}, 8.0)],
)
def test_a_picture_shows_for_its_windows_length_or_the_default(fields: dict[str, float], seconds: float) -> None:
    media = inspect_clip(_clip(1, keep_audio=True, **fields), _picture())
    assert media == ClipMedia(duration_sec=seconds, width=800, height=600, has_audio=False, still=True)


def test_a_still_is_told_apart_by_its_demuxer_not_by_lasting_no_time() -> None:
    assert all(is_still_image(MediaInfo(0.0, name, _picture().streams)) for name in ("jpeg_pipe", "webp_pipe"))
    empty_video = MediaInfo(0.0, "mov,mp4,m4a,3gp,3g2,mj2", (StreamInfo("video", "h264", 640, 360),))
    assert not is_still_image(empty_video)
    assert "lasts 0 s" in str(inspect_clip(_clip(1), empty_video))
    assert "shown for end - start = 0.5s" in str(inspect_clip(_clip(1, end=0.5), _picture()))
    assert "1 to 60s" in str(inspect_clip(_clip(1, end=90.0), _picture()))


def test_a_picture_is_planned_from_0_for_its_seconds_silent_and_moving() -> None:
    spec = _spec(_clip(3, end=2.0), _clip(2, label="Video"), _clip(1, start=4.0, end=7.0), fps=10)
    plan = plan_ranking(spec, {3: _still_media(2.0, 800, 600), 2: WIDE, 1: _still_media(3.0)})
    first, video, last = plan.clips
    assert (first.window.start_sec, first.window.end_sec, first.frames) == (0.0, 2.0, 20)
    assert (last.window.start_sec, last.window.end_sec, last.frames) == (0.0, 3.0, 30)
    assert not first.audio and not last.audio and video.audio
    # The moves cycle along the timeline, so the pictures either side of the video move differently.
    assert (first.motion, video.motion, last.motion) == (KenBurns.ZOOM_IN, None, KenBurns.ZOOM_OUT)
    assert first.fit is not None  # framing auto: a 4:3 picture in a 9:16 frame is shown whole, like a video


def _still_media(seconds: float, width: int = 600, height: int = 800) -> ClipMedia:
    return ClipMedia(duration_sec=seconds, width=width, height=height, has_audio=False, still=True)


@pytest.mark.parametrize("framing", ["fill", "fit", "letterbox"])
def test_a_picture_is_framed_once_then_repeated_and_moved_by_the_lessons_ken_burns(framing: str) -> None:
    plan = plan_ranking(_spec(_clip(2, end=2.0, framing=framing), _clip(1)), {2: _still_media(2.0), 1: WIDE})
    graph = clip_picture_filter(plan, 0, source="0:v:0", badge="1:v", out="c0")
    picture = graph.split("[c0_base]")[0]
    assert "fps=" not in picture and "tpad" not in picture  # one frame: nothing to resample or pad
    assert "loop=loop=59:size=1,setpts=N/(30*TB),perspective=" in picture  # 60 frames, then the move
    assert picture.index("scale=") < picture.index("loop=")  # framed (cropped, fitted) before it is repeated
    args = short_picture_args(plan, [Path("a.png"), Path("b.mp4")], [Path("2.png"), Path("1.png")], Path("p.mp4"))
    a_at = args.index("a.png")
    assert args[a_at - 3 : a_at] == ["-framerate", "30", "-i"]  # read as one frame, not trimmed with -ss/-t
    assert args.count("-ss") == 1
    sound = short_soundtrack_args(plan, [Path("a.png"), Path("b.mp4")], Path("s.m4a"))
    assert "a.png" not in sound  # a picture has no sound to read


# ---- the title card ---------------------------------------------------------------------------------------------
def test_a_title_card_needs_a_title() -> None:
    with pytest.raises(ValidationError, match="title_card: the card shows the short's title, so title must not"):
        _spec(_clip(1), title_card=True, title="  ")
    assert _spec(_clip(1), title_card=True, title="Top 1").title_card


def _card_plan() -> RankingPlan:
    spec = _spec(_clip(2, end=2.0), _clip(1, label="Gold"), title="Top 2", title_card=True)
    return plan_ranking(spec, {2: _still_media(2.0), 1: WIDE})


def test_the_card_opens_the_timeline_and_every_clip_follows_it() -> None:
    plan = _card_plan()
    assert plan.card_frames == round(TITLE_CARD_SEC * 30) == 45
    assert plan.transition_frames == 12
    assert [planned.start_frame for planned in plan.clips] == [33, 33 + 60 - 12]
    assert plan.total_frames == 45 + 60 + 240 - 2 * 12
    assert plan.shown_from_sec(0) == pytest.approx((33 + 6) / 30)  # halfway through its slide in, as later clips
    assert plan.clips[0].motion is KenBurns.PAN_RIGHT  # the card zooms in: the first picture takes the next move
    one = plan_ranking(_spec(_clip(1), title="Only", title_card=True), {1: WIDE})
    assert one.transition_frames == 12 and one.clips[0].start_frame == 33, "a lone clip still slides in"


def test_chapters_captions_and_announcements_start_after_the_card() -> None:
    plan = _card_plan()
    assert ranking_chapters_txt(plan).splitlines() == ["00:00 Top 2", "00:01 #2", "00:02 #1 Gold"]  # 1.3 s, 2.9 s
    cues = ranking_cues(plan)
    assert [cue.text for cue in cues] == ["Top 2", "#2", "#1 Gold"]
    assert cues[0].start_sec == 0.0 and cues[0].end_sec < cues[1].start_sec == pytest.approx(1.3)
    slots = plan_announcements(plan, {2: 0.5, 1: 0.5})
    assert [slot.at_sec for slot in slots] == pytest.approx([1.3, (81 + 6) / 30])


def test_the_card_is_the_first_layer_of_the_picture_and_silence_leads_the_sound() -> None:
    plan = _card_plan()
    sources, badges = [Path("a.png"), Path("b.mp4")], [Path("2.png"), Path("1.png")]
    with pytest.raises(ValueError, match="card PNG"):
        short_picture_args(plan, sources, badges, Path("p.mp4"))
    args = short_picture_args(plan, sources, badges, Path("p.mp4"), card=Path("card.png"))
    graph = _graph(args)
    assert "[4:v]scale=1080:1920:flags=lanczos,setsar=1,format=yuv420p,loop=loop=44:size=1" in graph
    # the first clip rises over the card's last 0.4 s (from 1.1 s, frame 33), the second from 2.7 s
    assert "[card_tail_all]trim=start_frame=33:end_frame=45,setpts=PTS-STARTPTS[card_tail]" in graph
    assert "[card_tail][c0_head]xfade=transition=slideup:duration=0.4:offset=0,format=yuv420p[c0_in]" in graph
    assert "[c0_tail][c1_head]xfade=transition=slideup:duration=0.4:offset=0,format=yuv420p[c1_in]" in graph
    assert "[card_body][c0_in][c0_body][c1_in][c1_body]concat=n=5:v=1:a=0[picture]" in graph
    sound = _graph(short_soundtrack_args(plan, sources, Path("s.m4a"), music_path=Path("bed.mp3")))
    assert "atrim=end_sample=72000,asetpts=PTS-STARTPTS[acard]" in sound  # 1.5 s of silence
    assert "[acard][a0]acrossfade=ns=19200" in sound and "[ax1][a1]acrossfade=ns=19200" in sound


# ---- on real FFmpeg ---------------------------------------------------------------------------------------------
SIZE, FPS = (180, 320), 10


def _sideways_photo(path: Path) -> Path:
    """A 200x300 upright photo (a white checker above, a red one below) stored as a 300x200 JPEG turned a quarter,
    with the EXIF orientation (6) that tells a viewer to turn it back, as a phone writes it."""
    upright = Image.new("RGB", (200, 300))
    draw = ImageDraw.Draw(upright)
    for x in range(0, 200, 20):
        for y in range(0, 300, 20):
            light, dark = ((255, 255, 255), (150, 150, 150)) if y < 150 else ((255, 0, 0), (120, 0, 0))
            draw.rectangle((x, y, x + 19, y + 19), fill=dark if (x + y) // 20 % 2 else light)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned 90° anticlockwise: shown turned back clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(path, format="JPEG", quality=95, exif=exif.tobytes())
    return path


@dataclass(frozen=True)
class Short:
    video: Path
    chapters: str
    plan: RankingPlan


@pytest.fixture(scope="module")
async def short(tmp_path_factory: pytest.TempPathFactory, fonts: FontSet) -> Short:
    """A 180x320 short at 10 fps: the card, a 2 s picture (#2), a 1.5 s blue clip with a tone (#1)."""
    folder = tmp_path_factory.mktemp("ranking-pictures")
    settings = _settings()
    files = {
        "uploads/photo.jpg": _sideways_photo(folder / "photo.jpg"),
        "uploads/blue.mp4": make_clip(ClipRecipe("blue", "180x320", FPS, 1.5, tone_hz=440), folder / "blue.mp4"),
    }
    blobs = await _store_with(folder / "blobs", settings, files)
    spec = RankingSpec(
        title="Top 2",
        title_card=True,
        size="180x320",
        fps=FPS,
        clips=[
            RankingClip(media_key="uploads/photo.jpg", rank=2, label="Photo", end=2.0),
            RankingClip(media_key="uploads/blue.mp4", rank=1, label="Blue"),
        ],
    )
    event, _ = await _compose(spec, blobs, settings, fonts, job_id="job-pictures")
    plan = plan_ranking(spec, {2: _still_media(2.0, 200, 300), 1: ClipMedia(1.5, 180, 320, has_audio=True)})
    assert event.outputs.chapters is not None
    chapters = _scratch_file(folder / "blobs", settings, event.outputs.chapters).read_text(encoding="utf-8")
    return Short(_scratch_file(folder / "blobs", settings, event.outputs.video), chapters, plan)


def _mean_difference(first: tuple[int, int, bytes], second: tuple[int, int, bytes]) -> float:
    return sum(abs(a - b) for a, b in zip(first[2], second[2], strict=True)) / len(first[2])


def _mean_rgb(frame: tuple[int, int, bytes], top: int, bottom: int) -> tuple[float, float, float]:
    width, _, data = frame
    rows = data[top * width * 3 : bottom * width * 3]
    count = len(rows) // 3
    red, green, blue = (sum(rows[channel::3]) / count for channel in range(3))
    return red, green, blue


async def test_the_short_has_the_planned_frames_card_picture_and_clip(short: Short) -> None:
    streams = probe_streams(short.video)["streams"]
    assert isinstance(streams, list)
    picture = next(stream for stream in streams if stream["codec_type"] == "video")
    assert (picture["width"], picture["height"], picture["r_frame_rate"]) == (*SIZE, "10/1")
    assert int(picture["nb_frames"]) == short.plan.total_frames == 15 + 20 + 15 - 2 * 4
    assert short.chapters.splitlines() == ["00:00 Top 2", "00:01 #2 Photo", "00:02 #1 Blue"]


def _h264_header_fields(video: Path) -> dict[str, int]:
    """The first frame's H.264 parameter-set fields, as FFmpeg's trace_headers bitstream filter reads them."""
    first_frame = ["-map", "0:v", "-frames:v", "1", "-c", "copy", "-bsf:v", "trace_headers", "-f", "null", "-"]
    traced = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(video), *first_frame],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    fields = re.findall(r"^\[trace_headers @ \w+\] \d+\s+(\w+)\s+[01]+ = (\d+)$", traced.stderr, re.MULTILINE)
    return {name: int(value) for name, value in fields}


async def test_the_short_is_h264_high_with_cavlc(short: Short) -> None:
    # CAVLC: the same pictures as CABAC for less encoder work at a short's high rate (ffmpeg.EntropyCoder).
    fields = _h264_header_fields(short.video)
    assert fields["profile_idc"] == 100 and fields["entropy_coding_mode_flag"] == 0


async def test_the_card_opens_the_short_then_the_upright_picture_moves(short: Short) -> None:
    card = frame_rgb(short.video, 0.5)
    bright = sum(1 for i in range(0, len(card[2]), 3) if min(card[2][i : i + 3]) > 200)
    assert bright > 100, "the title's white text is on the card"
    assert max(_mean_rgb(card, 0, 20)) < 80, "on the card's dark background"
    # The picture's interior: 1.5 s (past its slide in) to 2.6 s (before the next slide).
    early, late = frame_rgb(short.video, 1.6), frame_rgb(short.video, 2.6)
    assert _mean_difference(card, early) > 40, "the picture follows the card"
    assert _mean_difference(early, late) > 8, "the picture moves (a slow pan)"
    upper, lower = _mean_rgb(early, 130, 155), _mean_rgb(early, 260, 300)  # below the badge's band
    assert upper[0] - upper[2] < 40 < lower[0] - lower[2], f"turned upright: white above red ({upper}, {lower})"
    blue = frame_rgb(short.video, 3.9)
    assert _mean_rgb(blue, 200, 300)[2] > 150, "the last clip, blue, after the picture"


async def test_the_card_and_the_picture_are_silent_and_the_clip_is_heard_in_its_place(short: Short) -> None:
    assert max_volume_db(short.video, start_sec=0.0, seconds=2.7) < -60
    assert max_volume_db(short.video, start_sec=3.4, seconds=0.6) > -30
