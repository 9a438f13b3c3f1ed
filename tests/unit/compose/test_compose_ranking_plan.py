"""Ranking planning: countdown order, trims, crops, transition timing, filter text and badges (FFmpeg only to
make and probe one rotated clip)."""

import json
import logging
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from tests.unit.compose.clip_factory import ClipRecipe, make_clip, make_turned_clip

from reelflow.compose.announcements import plan_announcements
from reelflow.compose.badges import BADGE_FILL, layout_badge, render_badge
from reelflow.compose.fonts import FontSet
from reelflow.compose.ranking import (
    DEFAULT_CLIP_SEC,
    TRANSITION_SEC,
    ClipMedia,
    CropBox,
    InputProblem,
    centre_crop,
    countdown_order,
    inspect_clip,
    plan_ranking,
    ranking_chapters_txt,
    ranking_cues,
    thumbnail_frame,
    thumbnail_time_sec,
    trim_problem,
    trim_window,
    unusable_inputs_error,
)
from reelflow.compose.short_encoding import (
    Layer,
    clip_picture_filter,
    clip_sound_filter,
    joining_chains,
    short_picture_args,
    short_soundtrack_args,
)
from reelflow.contracts import ErrorCode, RankingClip, RankingSpec
from reelflow.runtime.media_probe import MediaInfo, StreamInfo, parse_probe_output, probe_media

WIDE = ClipMedia(duration_sec=20.0, width=640, height=360, has_audio=True)
TALL = ClipMedia(duration_sec=3.0, width=360, height=640, has_audio=False)
SQUARE = ClipMedia(duration_sec=6.0, width=480, height=480, has_audio=True)


def _clip(rank: int, **fields: object) -> RankingClip:
    return RankingClip.model_validate({"media_key": f"uploads/{rank}.mp4", "rank": rank, **fields})


def _spec(*clips: RankingClip, **fields: object) -> RankingSpec:
    return RankingSpec.model_validate({"clips": [clip.model_dump() for clip in clips], **fields})


def _three() -> tuple[RankingSpec, dict[int, ClipMedia]]:
    spec = _spec(_clip(1, label="Gold"), _clip(3, label="Bronze"), _clip(2, label="Silver", keep_audio=False))
    return spec, {1: SQUARE, 2: WIDE, 3: TALL}


def test_clips_count_down_from_the_highest_rank() -> None:
    clips = [_clip(2), _clip(5), _clip(1), _clip(4), _clip(3)]
    assert [clip.rank for clip in countdown_order(clips)] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    ("fields", "duration", "window"),
    [
        ({}, 20.0, (0.0, DEFAULT_CLIP_SEC)),  # long clip: its first 8 s
        ({}, 6.5, (0.0, 6.5)),  # between 5 and 8 s: all of it
        ({}, 3.0, (0.0, 3.0)),  # short clip: all of it
        ({"start": 4.0}, 20.0, (4.0, 12.0)),  # start only: 8 s from there
        ({"start": 4.0}, 7.0, (4.0, 7.0)),  # … or up to the clip's end
        ({"end": 3.5}, 20.0, (0.0, 3.5)),  # end only: from the beginning
        ({"start": 1.0, "end": 2.5}, 20.0, (1.0, 2.5)),
    ],
)
def test_default_and_requested_trims(fields: dict[str, float], duration: float, window: tuple[float, float]) -> None:
    trimmed = trim_window(_clip(1, **fields), duration)
    assert (trimmed.start_sec, trimmed.end_sec) == window
    assert not trimmed.clamped


def test_an_end_past_the_clip_is_clamped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    clip = _clip(2, label="Late", start=1.0, end=30.0)
    with caplog.at_level(logging.WARNING, logger="reelflow.compose.ranking"):
        window = trim_window(clip, 6.0)
    assert (window.start_sec, window.end_sec, window.clamped) == (1.0, 6.0, True)
    assert "clip #2 'Late' (uploads/2.mp4)" in caplog.text


@pytest.mark.parametrize(
    ("fields", "duration", "reason"),
    [
        ({"start": 6.0}, 6.0, "at or past the clip's end"),
        ({"start": 9.0, "end": 12.0}, 6.0, "at or past the clip's end"),
        ({"start": 5.5}, 6.0, "shorter than 1s"),
        ({"start": 1.0, "end": 1.5}, 20.0, "shorter than 1s"),
        ({}, 0.6, "shorter than 1s"),
    ],
)
def test_a_window_that_cannot_be_cut_is_a_problem(fields: dict[str, float], duration: float, reason: str) -> None:
    clip = _clip(1, **fields)
    problem = trim_problem(clip, duration)
    assert problem is not None and reason in problem
    with pytest.raises(ValueError, match="clip #1"):
        trim_window(clip, duration)


def _info(*streams: StreamInfo, duration: float = 2.0) -> MediaInfo:
    return MediaInfo(duration_sec=duration, format_name="mov,mp4", streams=streams)


def test_inspecting_a_probed_clip_names_what_is_wrong() -> None:
    video = StreamInfo(codec_type="video", codec_name="h264", width=640, height=360)
    audio = StreamInfo(codec_type="audio", codec_name="aac", sample_rate=48000)
    clip = _clip(1)
    assert inspect_clip(clip, _info(video, audio)) == ClipMedia(2.0, 640, 360, has_audio=True)
    assert inspect_clip(clip, _info(video)) == ClipMedia(2.0, 640, 360, has_audio=False)
    assert "no video stream" in str(inspect_clip(clip, _info(audio)))
    assert "lasts 0 s" in str(inspect_clip(clip, _info(video, duration=0.0)))
    assert "lasts 0 s" in str(inspect_clip(clip, _info(video, duration=float("nan"))))
    assert "picture size" in str(inspect_clip(clip, _info(StreamInfo(codec_type="video", codec_name="h264"))))
    assert "shorter than 1s" in str(inspect_clip(clip, _info(video, duration=0.5)))


def test_a_phone_clip_turned_upright_is_planned_at_the_size_ffmpeg_decodes_it() -> None:
    """A portrait phone recording is stored 640x360 with a quarter-turn display matrix; FFmpeg's decoder turns it
    upright (360x640), so the plan must crop that picture, not the stored one (which over-cropped it)."""
    probe = {
        "format": {"duration": "2.0", "format_name": "mov,mp4"},
        "streams": [
            {
                "codec_type": "video",
                "codec_name": "h264",
                "width": 640,
                "height": 360,
                "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}],
            }
        ],
    }
    info = parse_probe_output(json.dumps(probe), source="phone.mp4")
    [video] = info.streams
    assert (video.rotation, video.display_width, video.display_height) == (270, 360, 640)
    media = inspect_clip(_clip(1), info)
    assert media == ClipMedia(2.0, 360, 640, has_audio=False)
    assert isinstance(media, ClipMedia)
    assert centre_crop(media.width, media.height, (1080, 1920)) == CropBox(width=360, height=640, x=0, y=0)
    old_tag = {**probe, "streams": [{"codec_type": "video", "codec_name": "h264", "width": 640, "height": 360,
                                     "tags": {"rotate": "90"}}]}  # fmt: skip
    assert parse_probe_output(json.dumps(old_tag), source="old.mp4").streams[0].display_width == 360


async def test_the_probe_reads_the_rotation_ffmpeg_writes(tmp_path: Path) -> None:
    stored = make_clip(ClipRecipe("red", "320x180", 10, 1.0, tone_hz=None), tmp_path / "stored.mp4")
    turned = make_turned_clip(stored, tmp_path / "turned.mp4", degrees=90)
    [video] = (await probe_media(turned)).streams
    assert (video.width, video.height, video.display_width, video.display_height) == (320, 180, 180, 320)
    [plain] = (await probe_media(stored)).streams
    assert (plain.rotation, plain.display_width) == (0, 320)


@pytest.mark.parametrize(
    ("source", "crop"),
    [
        ((640, 360), CropBox(width=202, height=360, x=218, y=0)),  # wide: full height, centre strip
        ((1920, 1080), CropBox(width=606, height=1080, x=656, y=0)),
        ((360, 640), CropBox(width=360, height=640, x=0, y=0)),  # already 9:16: untouched
        ((480, 480), CropBox(width=270, height=480, x=104, y=0)),  # square
        ((720, 1920), CropBox(width=720, height=1280, x=0, y=320)),  # taller than 9:16: full width
        ((1081, 1921), CropBox(width=1080, height=1920, x=0, y=0)),  # odd sizes: even crop inside
    ],
)
def test_centre_crop_is_the_largest_even_9_16_box(source: tuple[int, int], crop: CropBox) -> None:
    box = centre_crop(*source, (1080, 1920))
    assert box == crop
    assert box.width % 2 == box.height % 2 == box.x % 2 == box.y % 2 == 0
    assert box.x + box.width <= source[0] and box.y + box.height <= source[1]
    assert abs(box.width / box.height - 9 / 16) < 0.01


def test_the_plan_counts_down_and_overlaps_each_join_by_one_transition() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    assert [planned.rank for planned in plan.clips] == [3, 2, 1]
    assert [planned.frames for planned in plan.clips] == [90, 240, 180]  # 3 s (all), 8 s (default), 6 s (all)
    assert plan.transition_frames == round(TRANSITION_SEC * 30) == 12
    assert [planned.start_frame for planned in plan.clips] == [0, 78, 306]
    assert plan.total_frames == 90 + 240 + 180 - 2 * 12
    assert plan.total_sec == pytest.approx(3 + 8 + 6 - 2 * TRANSITION_SEC)
    # Own sound: #3 has none in its file, #2 is muted by the spec, #1 keeps it.
    assert [planned.audio for planned in plan.clips] == [False, False, True]
    # Audio spans exactly the frames, so acrossfade and xfade stay in step.
    assert [plan.samples(i) for i in range(3)] == [144_000, 384_000, 288_000]
    assert plan.transition_samples == 19_200


def test_a_single_clip_has_no_transitions() -> None:
    plan = plan_ranking(_spec(_clip(1)), {1: WIDE})
    assert plan.transition_frames == 0
    assert plan.total_frames == 240
    picture = short_picture_args(plan, [Path("1.mp4")], [Path("1.png")], Path("p.mp4"))
    sound = short_soundtrack_args(plan, [Path("1.mp4")], Path("s.m4a"))
    picture_graph, sound_graph = (args[args.index("-filter_complex") + 1] for args in (picture, sound))
    assert "xfade" not in picture_graph and "acrossfade" not in sound_graph
    assert picture_graph.endswith("[picture]") and sound_graph.endswith("[soundtrack]")


def test_frames_follow_the_spec_frame_rate() -> None:
    plan = plan_ranking(_spec(_clip(2), _clip(1), fps=24), {2: TALL, 1: SQUARE})
    assert [planned.frames for planned in plan.clips] == [72, 144]
    assert plan.transition_frames == 10
    assert plan.total_frames == 72 + 144 - 10


def test_each_clip_is_trimmed_cropped_scaled_and_badged_once() -> None:
    spec = _spec(_clip(2, start=1.5, end=4.0, framing="fill"), _clip(1, keep_audio=False))
    plan = plan_ranking(spec, {2: WIDE, 1: SQUARE})
    graph = clip_picture_filter(plan, 0, source="0:v:0", badge="1:v", out="c0")
    assert "[0:v:0]fps=30:start_time=0,crop=202:360:218:0,scale=1080:1920" in graph
    assert "setsar=1" in graph and "trim=end_frame=75" in graph
    assert "[1:v]format=yuva420p,loop=loop=74:size=1" in graph  # the badge PNG is decoded and converted once
    assert "fade=t=in:st=0:d=0.4:alpha=1" in graph
    assert "[c0_base][c0_badge]overlay=x=0:y=0" in graph and graph.endswith("[c0]")
    sound = clip_sound_filter(plan, 0, source="0:a:0", out="a0")
    assert sound.startswith("[0:a:0]aresample=48000:async=1:first_pts=0") and "loudnorm=I=-16" in sound
    assert "atrim=end_sample=120000" in sound
    muted = clip_sound_filter(plan, 1, source=None, out="a1")
    assert "[0:a" not in muted and "anullsrc=r=48000:cl=stereo" in muted
    args = short_picture_args(plan, [Path("a.mp4"), Path("b.mp4")], [Path("2.png"), Path("1.png")], Path("p.mp4"))
    assert args[args.index("-ss") + 1] == "1.5" and args[args.index("-t") + 1] == "2.5"
    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["a.mp4", "2.png", "b.mp4", "1.png"]  # each source read once, for its window only
    assert args[args.index("-frames:v") + 1] == str(plan.total_frames)
    assert "-an" in args and args[-1] == "p.mp4"

    # The same run writes the thumbnail: the #1 clip's frame, split off the picture on its way to the encoder.
    with_thumbnail = short_picture_args(
        plan, [Path("a.mp4"), Path("b.mp4")], [Path("2.png"), Path("1.png")], Path("p.mp4"), thumbnail=Path("t.jpg")
    )
    frame = thumbnail_frame(plan)
    assert plan.clips[-1].start_frame < frame < plan.total_frames
    graph = with_thumbnail[with_thumbnail.index("-filter_complex") + 1]
    assert graph.endswith(
        f"[picture]format=yuv420p,split=2[encoded][snap];[snap]trim=start_frame={frame}:end_frame={frame + 1}[thumb]"
    )
    assert with_thumbnail[with_thumbnail.index("p.mp4") + 1 :] == [
        "-map", "[thumb]", "-frames:v", "1", "-q:v", "2", "-update", "1", "t.jpg"
    ]  # fmt: skip


def test_only_the_transitions_frames_go_through_xfade() -> None:
    """FFmpeg 5.1's xfade has no 4:2:0 formats: it is given only the frames where two layers overlap."""
    chains = joining_chains([Layer("card", 0, 45), Layer("c0", 33, 120), Layer("c1", 141, 90)], fps=30)
    graph = ";".join(chains)
    assert "[c0_tail_all]trim=start_frame=108:end_frame=120,setpts=PTS-STARTPTS[c0_tail]" in graph
    assert "[c0_head_all]trim=start_frame=0:end_frame=12,setpts=PTS-STARTPTS[c0_head]" in graph
    assert "[c0_body_all]trim=start_frame=12:end_frame=108,setpts=PTS-STARTPTS[c0_body]" in graph
    assert "[card_tail][c0_head]xfade=transition=slideup:duration=0.4:offset=0,format=yuv420p[c0_in]" in graph
    assert chains[-1] == "[card_body][c0_in][c0_body][c1_in][c1_body]concat=n=5:v=1:a=0[picture]"
    assert joining_chains([Layer("c0", 0, 90)], fps=30) == ["[c0]null[picture]"]
    with pytest.raises(ValueError, match="too few"):
        joining_chains([Layer("c0", 0, 20), Layer("c1", 8, 20), Layer("c2", 16, 20)], fps=30)


def test_taking_the_thumbnail_leaves_the_picture_as_it_is(tmp_path: Path) -> None:
    """The JPEG encoder prefers full-range yuvj420p; unpinned, FFmpeg negotiated it up a one-clip short's graph and
    drew the blurred backdrop full range under the limited-range clip and badge."""
    wide = ClipMedia(duration_sec=2.0, width=640, height=360, has_audio=False)
    plan = plan_ranking(_spec(_clip(1)), {1: wide})
    source = make_clip(ClipRecipe("0x3060c0", "640x360", 30, 2.0, tone_hz=None), tmp_path / "a.mp4")
    badge = tmp_path / "1.png"
    Image.new("RGBA", (1080, 400), (0, 0, 0, 160)).save(badge)
    plain = short_picture_args(plan, [source], [badge], tmp_path / "plain.mp4")
    with_thumbnail = short_picture_args(plan, [source], [badge], tmp_path / "t.mp4", thumbnail=tmp_path / "t.jpg")
    for args in (plain, with_thumbnail):
        subprocess.run(args, capture_output=True, timeout=120, check=True)

    def luma(video: Path) -> bytes:
        return subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(video), "-vf", "select=eq(n\\,30),scale=108:192",
             "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
            capture_output=True, timeout=60, check=True,
        ).stdout  # fmt: skip

    first, second = luma(tmp_path / "plain.mp4"), luma(tmp_path / "t.mp4")
    assert max(abs(a - b) for a, b in zip(first, second, strict=True)) <= 2


def test_a_short_cut_at_its_transitions_keeps_every_frame_and_the_slide_up(tmp_path: Path) -> None:
    wide = ClipMedia(duration_sec=4.0, width=640, height=360, has_audio=False)
    plan = plan_ranking(_spec(_clip(2), _clip(1)), {2: wide, 1: TALL})
    sources = [
        make_clip(ClipRecipe("red", "640x360", 30, 4.0, tone_hz=None), tmp_path / "a.mp4"),
        make_clip(ClipRecipe("blue", "360x640", 30, 3.0, tone_hz=None), tmp_path / "b.mp4"),
    ]
    badges = [tmp_path / "2.png", tmp_path / "1.png"]
    for badge in badges:
        Image.new("RGBA", (1080, 300), (0, 0, 0, 0)).save(badge)
    args = short_picture_args(plan, sources, badges, tmp_path / "p.mp4", thumbnail=tmp_path / "t.jpg")
    subprocess.run(args, capture_output=True, timeout=120, check=True)
    frames = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
         str(tmp_path / "p.mp4")],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    assert frames == str(plan.total_frames)
    mid = plan.clips[1].start_frame + plan.transition_frames // 2
    column = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(tmp_path / "p.mp4"),
         "-vf", f"select=eq(n\\,{mid}),crop=2:1920:540:0,scale=1:16",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    rows = [tuple(column[i : i + 3]) for i in range(0, len(column), 3)]
    # Mid slide-up the second clip (blue) has risen into the frame's bottom while the first (red) leaves at the top.
    assert rows[1][0] > 150 and rows[1][2] < 100
    assert rows[-2][2] > 150 and rows[-2][0] < 100


@pytest.mark.parametrize(
    ("media", "framing", "fit"),
    [
        (WIDE, "auto", (1080, 606)),  # a crop would keep 32% of a 16:9 clip: shown whole
        (SQUARE, "auto", (1080, 1080)),  # 56%: shown whole
        (TALL, "auto", None),  # already 9:16: filled
        (ClipMedia(duration_sec=3.0, width=480, height=600, has_audio=False), "auto", None),  # 4:5 keeps 70%
        (WIDE, "fill", None),
        (TALL, "fit", (1080, 1920)),
        (WIDE, "letterbox", (1080, 606)),
    ],
)
def test_framing_shows_a_clip_whole_when_a_crop_would_cut_most_of_it(
    media: ClipMedia, framing: str, fit: tuple[int, int] | None
) -> None:
    plan = plan_ranking(_spec(_clip(1, framing=framing)), {1: media})
    [planned] = plan.clips
    assert planned.fit == fit
    graph = clip_picture_filter(plan, 0, source="0:v:0", badge="1:v", out="c0")
    if fit is None or framing == "letterbox":
        assert "boxblur" not in graph and "split" not in graph
    if framing == "letterbox":
        assert planned.letterbox
        assert "pad=1080:1920:(ow-iw)/2:(oh-ih)/2:color=black" in graph
    elif fit is not None:
        # The whole clip at its fitted size, centred over its blurred crop, which is made small and scaled up.
        assert f"[c0_whole]scale={fit[0]}:{fit[1]}:flags=lanczos" in graph
        assert "scale=136:240:flags=bilinear,boxblur=" in graph and "scale=1080:1920:flags=bilinear" in graph
        assert "overlay=x=(W-w)/2:y=(H-h)/2" in graph


@pytest.mark.parametrize(
    ("media", "sharpened"),
    [
        (WIDE, True),  # 640 wide, fitted to 1080: enlarged 1.7x
        (TALL, True),  # 360 wide, filling 1080: 3x
        (ClipMedia(duration_sec=3.0, width=1080, height=1920, has_audio=False), False),  # shown as it is
        (ClipMedia(duration_sec=3.0, width=1920, height=1080, has_audio=False), False),  # fitted smaller
    ],
)
def test_only_an_enlarged_clip_is_sharpened(media: ClipMedia, sharpened: bool) -> None:
    plan = plan_ranking(_spec(_clip(1)), {1: media})
    graph = clip_picture_filter(plan, 0, source="0:v:0", badge="1:v", out="c0")
    assert ("unsharp=" in graph) == sharpened, graph


def test_joins_start_where_each_next_clip_is_planned() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    sources = [Path(f"{planned.rank}.mp4") for planned in plan.clips]
    args = short_picture_args(plan, sources, [Path(f"{planned.rank}.png") for planned in plan.clips], Path("p.mp4"))
    graph = args[args.index("-filter_complex") + 1]
    # #2 rises over the last 0.4 s of #3 (90 frames) from 2.6 s, #1 over the last 0.4 s of #2 (240) from 10.2 s
    assert "[c0_tail_all]trim=start_frame=78:end_frame=90,setpts=PTS-STARTPTS[c0_tail]" in graph
    assert "[c1_tail_all]trim=start_frame=228:end_frame=240,setpts=PTS-STARTPTS[c1_tail]" in graph
    assert "[c0_tail][c1_head]xfade=transition=slideup:duration=0.4:offset=0,format=yuv420p[c1_in]" in graph
    assert "[c1_tail][c2_head]xfade=transition=slideup:duration=0.4:offset=0,format=yuv420p[c2_in]" in graph
    sound = short_soundtrack_args(plan, sources, Path("s.m4a"))
    sound_graph = sound[sound.index("-filter_complex") + 1]
    assert sound_graph.count("acrossfade=ns=19200") == 2
    assert "sidechaincompress" not in sound_graph and "amix" not in sound_graph
    # only #1 is heard (#3 has no sound, #2 is muted): the others are not read at all, and #1 only for its sound
    assert [sound[i + 1] for i, arg in enumerate(sound) if arg == "-i"] == ["1.mp4"]
    assert "-vn" in sound


def test_music_is_looped_and_mixed_under_the_clips() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    clips = [Path(f"clip-{planned.rank}.mp4") for planned in plan.clips]
    args = short_soundtrack_args(plan, clips, Path("s.m4a"), music_path=Path("bed.mp3"), music_volume=0.2)
    music_at = args.index("bed.mp3")
    assert args[music_at - 3 : music_at] == ["-stream_loop", "-1", "-i"]
    graph = args[args.index("-filter_complex") + 1]
    assert "[1:a:0]" in graph and "volume=0.2" in graph  # one clip is heard, so the music is input 1
    assert "sidechaincompress" in graph  # #1 keeps its sound, so the music ducks under it
    lengths = [args[i + 1] for i, arg in enumerate(args) if arg == "-t"]
    assert lengths[-1] == "16.2"  # the soundtrack: the clip's own -t reads only its window
    assert args[args.index("-c:a") + 1] == "aac" and args[args.index("-ac") + 1] == "2"
    silent = plan_ranking(_spec(_clip(1, keep_audio=False)), {1: WIDE})
    silent_args = short_soundtrack_args(silent, [Path("1.mp4")], Path("s.m4a"), music_path=Path("bed.mp3"))
    assert "sidechaincompress" not in silent_args[silent_args.index("-filter_complex") + 1]


def test_each_announcement_starts_as_its_clip_takes_over_and_is_cut_where_the_next_does() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)  # #3 on screen 0-2.8 s, #2 2.8-10.4 s, #1 10.4-16.2 s
    slots = plan_announcements(plan, {3: 3.5, 2: 1.2, 1: 0.9})
    assert [slot.rank for slot in slots] == [3, 2, 1]
    assert [slot.at_sec for slot in slots] == pytest.approx([0.0, 2.8, 10.4])
    assert [slot.play_sec for slot in slots] == pytest.approx([2.8, 1.2, 0.9])
    assert [slot.cut for slot in slots] == [True, False, False]
    assert plan_announcements(plan, {}) == []


def test_announcements_are_delayed_to_their_slots_levelled_and_everything_else_ducks_under_them() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    clips = [Path(f"clip-{planned.rank}.mp4") for planned in plan.clips]
    said = [(Path(f"said-{slot.rank}.wav"), slot) for slot in plan_announcements(plan, {3: 3.5, 2: 1.2, 1: 0.9})]
    args = short_soundtrack_args(
        plan,
        clips,
        Path("s.m4a"),
        music_path=Path("bed.mp3"),
        announcements=said,
        announcement_levelling="volume=3.00dB",
    )
    assert [args[i + 1] for i, arg in enumerate(args) if arg == "-i"] == [
        "clip-1.mp4", "bed.mp3", "said-3.wav", "said-2.wav", "said-1.wav",
    ]  # fmt: skip
    graph = args[args.index("-filter_complex") + 1]
    for index, delay_samples in [(2, 0), (3, 134400), (4, 499200)]:  # 0, 2.8 and 10.4 s at 48 kHz
        assert f"[{index}:a]" in graph
        assert f"adelay=delays={delay_samples}S:all=1[announced{index - 2}]" in graph
    assert "atrim=end=2.8,asetpts=PTS-STARTPTS,afade=t=out:st=2.65:d=0.15,volume=3.00dB" in graph  # #3 is cut
    assert graph.count("volume=3.00dB") == 3
    assert "amix=inputs=3:duration=longest" in graph
    # the music ducks under #1's own sound, then the whole bed under the announcements
    assert graph.count("sidechaincompress") == 2
    assert "[bed][soundtrack_key]sidechaincompress" in graph and graph.endswith("[soundtrack]")
    plain = short_soundtrack_args(plan, clips, Path("s.m4a"), music_path=Path("bed.mp3"))
    assert "announced" not in plain[plain.index("-filter_complex") + 1]


def test_the_thumbnail_is_taken_from_the_middle_of_the_winner() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    assert plan.clips[-1].rank == 1
    assert thumbnail_time_sec(plan) == pytest.approx(3.0)


def test_captions_and_chapters_list_the_ranks_in_countdown_order() -> None:
    spec, media = _three()
    plan = plan_ranking(spec, media)
    assert ranking_chapters_txt(plan).splitlines() == ["00:00 #3 Bronze", "00:02 #2 Silver", "00:10 #1 Gold"]
    cues = ranking_cues(plan)
    assert [cue.text for cue in cues] == ["#3 Bronze", "#2 Silver", "#1 Gold"]
    assert cues[1].start_sec == pytest.approx((78 + 6) / 30)
    assert cues[-1].end_sec <= plan.total_sec


def test_every_unusable_input_is_listed_in_one_media_invalid_error() -> None:
    error = unusable_inputs_error(
        [
            InputProblem.of_clip(_clip(4, label="고양이"), "it has no video stream"),
            InputProblem.of_clip(_clip(2), "it lasts 0 s"),
            InputProblem.of_music("uploads/bed.mp3", "it is not in the media bucket"),
        ]
    )
    assert error.code is ErrorCode.MEDIA_INVALID and not error.retryable
    assert error.message.startswith("3 ranking inputs cannot be used: ")
    assert "clip #4 '고양이' (uploads/4.mp4): it has no video stream" in error.message
    assert "clip #2 (uploads/2.mp4): it lasts 0 s" in error.message
    assert "music (uploads/bed.mp3): it is not in the media bucket" in error.message
    assert [problem["rank"] for problem in error.details["problems"]] == [4, 2, None]


@pytest.mark.parametrize("frame", [(1080, 1920), (720, 1280), (1280, 720), (1080, 1080)])
def test_the_badge_stays_in_the_top_title_safe_area(frame: tuple[int, int], fonts: FontSet) -> None:
    width, height = frame
    layout = layout_badge(12, "세상에서 가장 귀여운 고양이 and a rather long English label too", frame, fonts)
    left, top, right, bottom = layout.pill
    assert layout.size[0] == width and layout.size[1] <= height * 0.4
    assert left >= 0.05 * width and right <= 0.95 * width and top >= 0.05 * height
    assert layout.label is not None and 1 <= len(layout.label.lines) <= 2
    label_left, label_top, label_right, label_bottom = layout.label.ink_box
    assert label_left >= 0.05 * width and label_right <= 0.95 * width
    assert bottom <= label_top and label_bottom <= layout.size[1]


@pytest.mark.parametrize("frame", [(1080, 1920), (720, 1280), (1080, 1080)])
def test_the_shorts_title_heads_the_band_above_the_pill(frame: tuple[int, int], fonts: FontSet) -> None:
    """The issue found the short's title nowhere in the video: it now tops every clip's band, inside the safe area,
    with the pill and the label below it."""
    width, height = frame
    layout = layout_badge(
        2, "두 번째", frame, fonts, title="올해 가장 많이 본 고양이 영상 Top 5 — the cutest cats of the year"
    )
    assert layout.title is not None and 1 <= len(layout.title.lines) <= 2
    title_left, title_top, title_right, title_bottom = layout.title.ink_box
    assert title_left >= 0.05 * width and title_right <= 0.95 * width and title_top >= 0.05 * height
    assert title_bottom <= layout.pill[1] and layout.label is not None and layout.pill[3] <= layout.label.ink_box[1]
    assert layout.size[1] <= height * 0.4
    untitled = layout_badge(2, "두 번째", frame, fonts)
    assert untitled.title is None and untitled.pill[1] < layout.pill[1]


def test_the_badge_is_an_opaque_pill_on_a_band_that_fades_to_transparent(fonts: FontSet) -> None:
    layout = layout_badge(3, "", (1080, 1920), fonts)
    assert layout.label is None
    image = render_badge(layout, fonts)
    assert image.mode == "RGBA" and image.size == layout.size
    left, top, right, _ = layout.pill
    assert _rgba_at(image, (left + right) // 2, top + 3) == (*BADGE_FILL, 255)
    assert _rgba_at(image, 5, layout.size[1] - 1)[3] == 0  # the band's lower edge is see-through
    assert 0 < _rgba_at(image, 5, 0)[3] < 255  # shaded, not opaque, at the very top


def _rgba_at(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    value = image.getpixel((x, y))
    assert isinstance(value, tuple)
    return value
