"""FFmpeg argument builders and frame-exact segment timing."""

import random
from itertools import pairwise
from pathlib import Path

import pytest

from reelflow.compose.ffmpeg import (
    animated_part_args,
    concat_list_text,
    escape_filter_value,
    final_mux_args,
    frame_boundaries,
    frame_counts,
    narration_filter,
    seconds_text,
    segment_args,
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


def test_segment_args_decode_the_still_once_for_exact_frames() -> None:
    args = segment_args(
        Path("/w/slide.png"),
        Path("/w/sub.ass"),
        Path("/fonts"),
        Path("/w/seg.mp4"),
        frames=75,
        fps=30,
        size=(1280, 720),
    )

    assert args[0] == "ffmpeg"
    input_at = args.index("-i")
    assert args[input_at + 1] == "/w/slide.png"
    # one decoded frame, repeated by the loop filter: no -loop 1 (which decodes the PNG for every frame)
    assert "-loop" not in args
    assert _after(args, "-framerate") == "30" and args.index("-framerate") < input_at
    # output options come after it, and the output path is last
    for flag, value in [
        ("-frames:v", "75"),
        ("-r", "30"),
        ("-c:v", "libx264"),
        ("-profile:v", "high"),
        ("-preset", "veryfast"),
        ("-tune", "stillimage"),
        ("-pix_fmt", "yuv420p"),
        ("-video_track_timescale", "30000"),
        ("-progress", "pipe:1"),
    ]:
        assert _after(args, flag) == value
        assert args.index(flag) > input_at
    assert "-an" in args and "-nostats" in args and "-y" in args
    assert "-shortest" not in args
    assert args[-1] == "/w/seg.mp4"
    video_filter = _after(args, "-vf")
    # scaled and converted once, before the frame is repeated; subtitles burned on every repeated frame
    assert video_filter.startswith("scale=1280:720:flags=lanczos,setsar=1,format=yuv420p,loop=loop=74:size=1,")
    assert "setpts=N/(30*TB)" in video_filter
    assert video_filter.endswith("subtitles=filename=/w/sub.ass:fontsdir=/fonts")


def test_every_part_of_a_video_shares_timescale_and_tuning() -> None:
    still = x264_output_args(25, still=True)
    moving = x264_output_args(25, still=False)

    assert _after(still, "-video_track_timescale") == _after(moving, "-video_track_timescale") == "25000"
    assert _after(still, "-tune") == "stillimage"
    assert "-tune" not in moving


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


def test_segment_args_without_subtitles_has_no_burn() -> None:
    args = segment_args(Path("s.png"), None, Path("/fonts"), Path("o.mp4"), frames=10, fps=10, size=(320, 180))

    assert "subtitles=" not in _after(args, "-vf")


def test_segment_args_rejects_zero_frames() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        segment_args(Path("s.png"), None, None, Path("o.mp4"), frames=0, fps=10, size=(320, 180))


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
    assert all("aresample=48000" in chain for chain in chains[:2])
    assert chains[2] == "[a0][a1]concat=n=2:v=0:a=1[narration]"


def test_narration_filter_can_start_at_another_input() -> None:
    graph = narration_filter([1.0, 2.0], first_input=0)

    assert graph.startswith("[0:a]") and ";[1:a]" in graph and "[2:a]" not in graph


def test_final_mux_args_copy_video_and_encode_aac() -> None:
    audio = [Path("/w/1.wav"), Path("/w/2.wav"), Path("/w/3.wav")]
    args = final_mux_args(Path("/w/list.ffconcat"), audio, [1.0, 2.0, 3.0], Path("/w/out.mp4"), total_duration_sec=6.0)

    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/list.ffconcat", "/w/1.wav", "/w/2.wav", "/w/3.wav"]
    concat_input = args.index("/w/list.ffconcat")
    assert _after(args, "-f") == "concat" and args.index("-f") < concat_input
    assert _after(args, "-safe") == "0" and args.index("-safe") < concat_input
    assert "concat=n=3:v=0:a=1[narration]" in _after(args, "-filter_complex")
    maps = [args[i + 1] for i, arg in enumerate(args) if arg == "-map"]
    assert maps == ["0:v:0", "[narration]"]
    assert _after(args, "-c:v") == "copy"
    assert _after(args, "-c:a") == "aac"
    assert _after(args, "-ar") == "48000"
    assert _after(args, "-movflags") == "+faststart"
    assert _after(args, "-t") == "6"
    assert _after(args, "-progress") == "pipe:1"
    assert "-shortest" not in args
    assert args.index("-filter_complex") > args.index("/w/3.wav")
    assert args[-1] == "/w/out.mp4"


def test_final_mux_args_loop_the_music_after_the_narration_into_the_soundtrack() -> None:
    audio = [Path("/w/1.wav"), Path("/w/2.wav")]
    args = final_mux_args(
        Path("/w/list.ffconcat"),
        audio,
        [1.0, 2.0],
        Path("/w/out.mp4"),
        total_duration_sec=3.0,
        soundtrack_filter="[narration][3:a]amix[soundtrack]",
        looped_audio=Path("/w/music.mp3"),
    )

    music_at = args.index("/w/music.mp3")
    assert args[music_at - 1] == "-i" and args[music_at - 3 : music_at - 1] == ["-stream_loop", "-1"]
    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/list.ffconcat", "/w/1.wav", "/w/2.wav", "/w/music.mp3"]
    assert _after(args, "-filter_complex").endswith(";[narration][3:a]amix[soundtrack]")
    maps = [args[i + 1] for i, arg in enumerate(args) if arg == "-map"]
    assert maps == ["0:v:0", "[soundtrack]"]


def test_final_mux_args_refuses_music_without_a_soundtrack() -> None:
    with pytest.raises(ValueError, match="soundtrack filter"):
        final_mux_args(
            Path("l"), [Path("a.wav")], [1.0], Path("o.mp4"), total_duration_sec=1.0, looped_audio=Path("m.mp3")
        )


def test_final_mux_args_needs_one_clip_per_segment() -> None:
    with pytest.raises(ValueError, match="one narration clip per segment"):
        final_mux_args(Path("l"), [Path("a.wav")], [1.0, 2.0], Path("o.mp4"), total_duration_sec=3.0)
