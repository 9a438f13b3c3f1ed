"""FFmpeg argument builders and frame-exact timing."""

import random
from itertools import pairwise
from pathlib import Path

import pytest

from reelflow.compose.backdrops import LayeredShot, PictureBackdrop
from reelflow.compose.ffmpeg import (
    aac_args,
    animated_part_args,
    concat_list_text,
    escape_filter_value,
    frame_boundaries,
    frame_counts,
    held_pictures_mux_args,
    narration_filter,
    parts_mux_args,
    seconds_text,
    spliced_shot_args,
    still_pictures_args,
    video_backdrop_filter,
    x264_output_args,
)
from reelflow.compose.motion import KenBurns, MovingSlide


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("fps", [10, 24, 25, 30, 60])
def test_frame_boundaries_total_stays_within_one_frame_and_grows(fps: int) -> None:
    rng = random.Random(fps)
    for _ in range(200):
        durations = [rng.uniform(0.3, 12.0) for _ in range(rng.randint(1, 40))]
        boundaries = frame_boundaries(durations, fps)

        assert boundaries[0] == 0
        assert len(boundaries) == len(durations) + 1
        assert all(later > earlier for earlier, later in pairwise(boundaries))
        assert abs(boundaries[-1] - sum(durations) * fps) <= 1
        # every boundary tracks the running sum, so no scene drifts from its narration
        running = 0.0
        for duration, boundary in zip(durations, boundaries[1:], strict=True):
            running += duration
            assert abs(boundary - running * fps) <= 0.5 + 1e-9


def test_rounding_the_running_sum_beats_rounding_each_piece() -> None:
    durations = [1.02] * 50  # 30.6 frames each at 30 fps: per-piece rounding would lose 30 frames
    assert sum(frame_counts(durations, 30)) == 1530


def test_every_segment_gets_at_least_one_frame() -> None:
    counts = frame_counts([0.01, 0.01, 2.0], 30)

    assert all(count >= 1 for count in counts)
    assert sum(counts) == round(2.02 * 30)


def test_frame_boundaries_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="fps"):
        frame_boundaries([1.0], 0)
    with pytest.raises(ValueError, match="negative"):
        frame_boundaries([-1.0], 30)


def test_seconds_text_is_plain_decimal() -> None:
    assert seconds_text(2.5) == "2.5"
    assert seconds_text(3.0) == "3"
    assert seconds_text(1e-7) == "0"
    assert seconds_text(1 / 3) == "0.333333"


def test_still_pictures_args_draw_every_picture_once_as_an_idr_frame() -> None:
    args = still_pictures_args(
        Path("/w/pictures.ffconcat"),
        Path("/w/pictures.ass"),
        Path("/w/fonts"),
        Path("/w/pictures.h264"),
        pictures=58,
        fps=30,
        size=(1280, 720),
    )

    assert args[0] == "ffmpeg" and "-y" in args and "-nostats" in args
    input_at = args.index("-i")
    assert args[input_at + 1] == "/w/pictures.ffconcat"
    assert args[input_at - 4 : input_at] == ["-f", "concat", "-safe", "0"]
    # drawn at the frame size, captions burned per slot, then restamped one frame apart at the video's rate
    assert _after(args, "-vf") == (
        "scale=1280:720:flags=lanczos,setsar=1,format=yuv420p,"
        "subtitles=filename=/w/pictures.ass:fontsdir=/w/fonts,setpts=N/(30*TB)"
    )
    for flag, value in [
        ("-fps_mode", "passthrough"),  # one frame per picture: never duplicated or dropped
        ("-frames:v", "58"),
        ("-r", "30"),
        ("-c:v", "libx264"),
        ("-profile:v", "high"),
        ("-preset", "veryfast"),
        ("-tune", "stillimage"),
        ("-crf", "10"),
        ("-pix_fmt", "yuv420p"),
        # what the skip frames are written for: no B-frames, CAVLC, every frame an IDR frame
        ("-bf", "0"),
        ("-coder", "cavlc"),
        ("-force_key_frames", "expr:1"),
        ("-forced-idr", "1"),
        ("-threads", "1"),
        # headers that do not depend on the quality, so a moving shot's encode writes the same ones
        ("-x264-params", "rc-lookahead=0:stitchable=1"),
        ("-f", "h264"),
        ("-progress", "pipe:1"),
    ]:
        assert _after(args[input_at:], flag) == value, flag
    assert "-an" in args
    assert args[-1] == "/w/pictures.h264"


def test_still_pictures_args_without_captions_burn_nothing() -> None:
    args = still_pictures_args(
        Path("p.ffconcat"), None, Path("/fonts"), Path("p.h264"), pictures=2, fps=25, size=(320, 180)
    )

    assert _after(args, "-vf") == "scale=320:180:flags=lanczos,setsar=1,format=yuv420p,setpts=N/(25*TB)"
    with pytest.raises(ValueError, match="at least one picture"):
        still_pictures_args(Path("p"), None, None, Path("o"), pictures=0, fps=25, size=(320, 180))


def test_spliced_shot_args_move_the_picture_under_its_still_text_then_burn() -> None:
    shot = LayeredShot(PictureBackdrop(Path("/w/back.bmp"), KenBurns.ZOOM_IN), Path("/w/over.png"), 0, 30)

    args = spliced_shot_args(shot, Path("/w/s.ass"), None, Path("/w/s.h264"), frames=30, fps=10, size=(320, 180))

    assert [args[i + 1] for i, arg in enumerate(args) if arg == "-i"] == ["/w/back.bmp", "/w/over.png"]
    back, over, finish = _after(args, "-filter_complex").split(";")
    assert back.startswith("[0:v]scale=320:180") and "perspective=" in back and back.endswith("[shotback]")
    # the text is laid over the moving picture, and the captions over both: neither moves
    assert over == "[shotback][1:v]overlay=eof_action=repeat:format=yuv420[shot]"
    assert finish.startswith("[shot]subtitles=filename=/w/s.ass,setparams=") and finish.endswith("[picture]")
    for flag, value in [("-frames:v", "30"), ("-crf", "20"), ("-bf", "0"), ("-coder", "cavlc"), ("-f", "h264")]:
        assert _after(args, flag) == value, flag
    assert _after(args, "-x264-params") == "stitchable=1"
    assert "-force_key_frames" not in args and "-tune" not in args


def test_a_video_backdrop_covers_the_frame_or_fills_its_window_and_holds_its_last_frame() -> None:
    covering = video_backdrop_filter(None, first_frame=5, frames=20, fps=10, size=(320, 180))
    assert covering.startswith("setpts=PTS-STARTPTS,fps=10,")
    assert "scale=320:180:force_original_aspect_ratio=increase:flags=lanczos,crop=320:180" in covering
    assert "tpad=stop_mode=clone:stop=-1,trim=start_frame=5:end_frame=25" in covering

    placed = video_backdrop_filter((160, 40, 300, 120), first_frame=0, frames=20, fps=10, size=(320, 180))
    assert "scale=140:80:flags=lanczos,pad=320:180:160:40:black" in placed


def test_every_part_of_a_moving_video_shares_timescale_and_settings() -> None:
    settings = x264_output_args(25)

    assert _after(settings, "-video_track_timescale") == "25000"
    assert _after(settings, "-crf") == "19" and _after(settings, "-preset") == "veryfast"
    assert _after(settings, "-x264-params") == "me=dia:subme=1:partitions=i8x8,i4x4"
    assert "-tune" not in settings and "-an" in settings


def test_animated_part_args_crossfade_two_moving_slides_then_burn() -> None:
    slides = [
        MovingSlide(Path("/w/a.png"), KenBurns.ZOOM_IN, first_frame=40, span_frames=55),
        MovingSlide(Path("/w/b.png"), KenBurns.PAN_RIGHT, first_frame=0, span_frames=60),
    ]

    args = animated_part_args(slides, Path("/w/x.ass"), None, Path("/w/p.mp4"), frames=15, fps=30, size=(320, 180))

    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/a.png", "/w/b.png"]
    assert "-loop" not in args
    graph = _after(args, "-filter_complex")
    chains = graph.split(";")
    assert chains[0].startswith("[0:v]scale=320:180") and "loop=loop=14:size=1" in chains[0]
    assert "perspective=" in chains[0] and "(in-1+40)/54" in chains[0] and chains[0].endswith("[s0]")
    assert "(in-1+0)/59" in chains[1] and chains[1].endswith("[s1]")
    assert chains[2] == "[s0][s1]xfade=transition=fade:duration=0.5:offset=0[mixed]"
    # subtitles come after the motion and the blend, so they never zoom
    assert chains[3] == "[mixed]subtitles=filename=/w/x.ass[picture]"
    assert _after(args, "-map") == "[picture]"
    assert _after(args, "-frames:v") == "15"
    assert "-tune" not in args
    assert args[-1] == "/w/p.mp4"


def test_animated_part_args_single_slide_has_no_crossfade() -> None:
    slide = MovingSlide(Path("/w/a.png"), KenBurns.PAN_LEFT, first_frame=0, span_frames=10)

    graph = _after(
        animated_part_args([slide], None, None, Path("o.mp4"), frames=10, fps=10, size=(320, 180)), "-filter_complex"
    )

    assert "xfade" not in graph and "subtitles" not in graph
    assert graph.endswith("[s0]null[picture]")


def test_animated_part_args_rejects_bad_parts() -> None:
    slide = MovingSlide(Path("a.png"), KenBurns.ZOOM_OUT, first_frame=0, span_frames=10)
    with pytest.raises(ValueError, match="at least one frame"):
        animated_part_args([slide], None, None, Path("o.mp4"), frames=0, fps=10, size=(320, 180))
    with pytest.raises(ValueError, match="one slide or crossfades two"):
        animated_part_args([slide] * 3, None, None, Path("o.mp4"), frames=5, fps=10, size=(320, 180))


def test_filter_values_are_escaped_for_both_parser_levels() -> None:
    assert escape_filter_value("/tmp/plain/sub.ass") == "/tmp/plain/sub.ass"
    assert escape_filter_value("/a:b/it's [1], x;y.ass") == "/a\\\\:b/it\\\\\\'s \\[1\\]\\, x\\;y.ass"
    assert escape_filter_value("C:\\dir") == "C\\\\:\\\\\\\\dir"


def test_concat_list_escapes_single_quotes() -> None:
    text = concat_list_text([Path("/w/a.mp4"), Path("/w/it's.mp4")])

    assert text == "ffconcat version 1.0\nfile '/w/a.mp4'\nfile '/w/it'\\''s.mp4'\n"


def test_concat_list_durations_never_drift_from_the_frame_grid() -> None:
    frames = [37, 1, 64, 29, 31] * 40  # 200 parts at 30 fps: each duration is an inexact decimal
    paths = [Path(f"/w/{i}.mp4") for i in range(len(frames))]

    text = concat_list_text(paths, [count / 30 for count in frames])

    durations = [line.removeprefix("duration ") for line in text.splitlines() if line.startswith("duration ")]
    assert len(durations) == len(frames)
    elapsed_us = 0
    elapsed_frames = 0
    for written, count in zip(durations, frames, strict=True):
        assert len(written.split(".")[1]) == 6  # whole microseconds, as the demuxer reads them
        elapsed_us += round(float(written) * 1_000_000)
        elapsed_frames += count
        # the running sum stays on the exact frame time, rounded to the microsecond
        assert elapsed_us == round(elapsed_frames * 1_000_000 / 30)


def test_concat_list_needs_one_duration_per_segment() -> None:
    with pytest.raises(ValueError, match="one duration per segment"):
        concat_list_text([Path("a.mp4")], [1.0, 2.0])


def test_narration_filter_pads_and_trims_each_clip_to_its_segment() -> None:
    graph = narration_filter([2.5, 1.0])

    chains = graph.split(";")
    assert chains[0].startswith("[1:a]") and chains[0].endswith("apad,atrim=end=2.5,asetpts=PTS-STARTPTS[a0]")
    assert chains[1].startswith("[2:a]") and "atrim=end=1," in chains[1] and chains[1].endswith("[a1]")
    assert all("aresample=48000" in chain and "channel_layouts=stereo" in chain for chain in chains[:2])
    assert chains[2] == "[a0][a1]concat=n=2:v=0:a=1[narration]"


def test_narration_filter_can_start_at_another_input_and_stay_mono() -> None:
    graph = narration_filter([1.0, 2.0], first_input=0, layout="mono")

    assert graph.startswith("[0:a]") and ";[1:a]" in graph and "[2:a]" not in graph
    assert "channel_layouts=mono" in graph and "stereo" not in graph


def test_speech_is_mono_aac_with_the_fast_coder_and_music_stays_stereo() -> None:
    assert aac_args("mono") == ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "128k", "-ac", "1", "-ar", "48000"]
    assert aac_args("stereo") == ["-c:a", "aac", "-b:a", "160k", "-ac", "2", "-ar", "48000"]


def test_held_pictures_mux_copies_both_streams_on_the_frame_grid() -> None:
    args = held_pictures_mux_args(
        Path("/w/held.h264"), Path("/w/soundtrack.m4a"), Path("/w/out.mp4"), fps=30, total_duration_sec=6.0
    )

    held_at = args.index("/w/held.h264")
    # -r on the raw input (not -framerate): timestamps from frame numbers, so they never drift
    assert args[held_at - 5 : held_at] == ["-f", "h264", "-r", "30", "-i"]
    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/held.h264", "/w/soundtrack.m4a"]
    maps = [args[i + 1] for i, arg in enumerate(args) if arg == "-map"]
    assert maps == ["0:v:0", "1:a:0"]
    assert _after(args, "-c") == "copy"
    assert _after(args, "-bsf:v") == "setts=pts=DTS"
    assert _after(args, "-video_track_timescale") == "30000"
    assert _after(args, "-t") == "6"
    assert _after(args, "-movflags") == "+faststart"
    assert _after(args, "-progress") == "pipe:1"
    assert "-shortest" not in args
    assert args[-1] == "/w/out.mp4"


def test_parts_mux_joins_the_parts_and_copies_the_soundtrack() -> None:
    args = parts_mux_args(
        Path("/w/list.ffconcat"), Path("/w/soundtrack.m4a"), Path("/w/out.mp4"), fps=25, total_duration_sec=3.5
    )

    concat_input = args.index("/w/list.ffconcat")
    assert args[concat_input - 5 : concat_input] == ["-f", "concat", "-safe", "0", "-i"]
    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/list.ffconcat", "/w/soundtrack.m4a"]
    maps = [args[i + 1] for i, arg in enumerate(args) if arg == "-map"]
    assert maps == ["0:v:0", "1:a:0"]
    assert _after(args, "-c") == "copy" and "-c:a" not in args and "-c:v" not in args
    assert _after(args, "-video_track_timescale") == "25000"
    assert _after(args, "-t") == "3.5"
    assert args[-1] == "/w/out.mp4"
