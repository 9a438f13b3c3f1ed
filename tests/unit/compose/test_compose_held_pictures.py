"""Still-slide lessons: each distinct picture is planned once, encoded once as an IDR frame and held by skip frames."""

import subprocess
from itertools import groupby
from pathlib import Path

import pytest
from PIL import Image
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import decode_errors, make_tone, run_tool, video_facts

from reelflow.compose.ffmpeg import (
    SPLICEABLE_X264_ARGS,
    STITCHABLE,
    concat_list_text,
    still_pictures_args,
    x264_args,
)
from reelflow.compose.fonts import FontSet
from reelflow.compose.h264_hold import (
    BitReader,
    BitWriter,
    EncodedShot,
    UnsupportedStreamError,
    nal_type,
    nal_unit,
    nal_units,
    parse_pps,
    parse_sps,
    rbsp_of,
    skip_frame,
    spliced_stream,
)
from reelflow.compose.lesson import Timeline, compose_lesson, lesson_cues
from reelflow.compose.picture_plan import (
    PICTURE_SLOT_SEC,
    HeldPicture,
    first_frame_from,
    picture_slot_cues,
    plan_held_pictures,
)
from reelflow.compose.subtitles import Cue
from reelflow.contracts import SubtitleMode

FPS = 30


def test_compose_held_pictures_change_with_scenes_and_captions_only() -> None:
    cues = [
        Cue(0.0, 1.0, "one"),
        Cue(1.0, 1.95, "two"),  # ends 0.05 s before its scene does: a caption-less tail
        Cue(2.0, 3.0, "three"),
    ]

    pictures = plan_held_pictures([0, 60, 90], cues, FPS)

    assert pictures == [
        HeldPicture(0, ("one",), 30),
        HeldPicture(0, ("two",), 29),  # frames 30..58: 58/30 = 1.933 < 1.95 <= 59/30
        HeldPicture(0, (), 1),
        HeldPicture(1, ("three",), 30),
    ]
    assert sum(picture.frames for picture in pictures) == 90


def test_compose_held_pictures_follow_the_renderers_rule_for_each_frame() -> None:
    # A caption is on frame f when start <= f / fps < end, including float noise in the cue times.
    assert first_frame_from(1.0, FPS) == 30
    assert first_frame_from(1.0000000001, FPS) == 30
    assert first_frame_from(1.01, FPS) == 31
    assert first_frame_from(0.1 + 0.2, 10) == 3
    pictures = plan_held_pictures([0, 10], [Cue(0.01, 0.2, "late")], FPS)
    assert pictures == [HeldPicture(0, (), 1), HeldPicture(0, ("late",), 5), HeldPicture(0, (), 4)]


def test_compose_held_pictures_without_captions_are_one_per_scene() -> None:
    assert plan_held_pictures([0, 45, 46, 120], [], FPS) == [
        HeldPicture(0, (), 45),
        HeldPicture(1, (), 1),
        HeldPicture(2, (), 74),
    ]
    with pytest.raises(ValueError, match="at least one frame"):
        plan_held_pictures([0, 10, 10], [], FPS)


def test_compose_held_pictures_captions_are_retimed_onto_their_slots() -> None:
    pictures = [HeldPicture(0, ("a",), 50), HeldPicture(0, (), 3), HeldPicture(1, ("b", "c"), 9)]

    cues = picture_slot_cues(pictures)

    assert [(round(cue.start_sec, 6), round(cue.end_sec, 6), cue.text) for cue in cues] == [
        (0.0, PICTURE_SLOT_SEC, "a"),
        (0.2, 0.3, "b"),
        (0.2, 0.3, "c"),
    ]


def test_compose_held_bits_round_trip_exp_golomb_and_emulation_prevention() -> None:
    writer = BitWriter()
    for value in (0, 1, 2, 7, 3600, 65535):
        writer.unsigned(value)
    for value in (0, 1, -1, 5, -26):
        writer.signed(value)
    reader = BitReader(writer.rbsp())
    assert [reader.unsigned() for _ in range(6)] == [0, 1, 2, 7, 3600, 65535]
    assert [reader.signed() for _ in range(5)] == [0, 1, -1, 5, -26]

    payload = bytes([0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 7])
    unit = nal_unit(2, 1, payload)
    assert b"\x00\x00\x00" not in unit and b"\x00\x00\x01" not in unit and b"\x00\x00\x02" not in unit
    assert unit[0] == 0x41 and nal_type(unit) == 1
    assert rbsp_of(unit) == payload
    stream = b"\x00\x00\x00\x01" + unit + b"\x00\x00\x01" + nal_unit(3, 5, b"\x88\x84")
    assert nal_units(stream) == [unit, bytes([0x65, 0x88, 0x84])]


def _encode_pictures(folder: Path, colours: list[str], *extra: str) -> bytes:
    """Raw H.264 of one frame per colour, encoded the way lessons encode their pictures (plus ``extra``)."""
    stills = []
    for index, colour in enumerate(colours):
        still = folder / f"{index}-{colour}.bmp"
        Image.new("RGB", (160, 96), colour).save(still)
        stills.append(still)
    listing = folder / "pictures.ffconcat"
    listing.write_text(concat_list_text(stills, [PICTURE_SLOT_SEC] * len(stills)), encoding="utf-8")
    out = folder / "pictures.h264"
    args = still_pictures_args(listing, None, None, out, pictures=len(stills), fps=FPS, size=(160, 96))
    progress_at = args.index("-progress")
    args[progress_at:progress_at] = list(extra)
    subprocess.run(args, check=True, capture_output=True, timeout=60)
    return out.read_bytes()


def test_compose_held_skip_frames_fit_the_encoders_parameter_sets(tmp_path: Path) -> None:
    encoded = _encode_pictures(tmp_path, ["red", "blue"])
    units = nal_units(encoded)
    sequence = parse_sps(next(unit for unit in units if nal_type(unit) == 7))
    picture = parse_pps(next(unit for unit in units if nal_type(unit) == 8))
    assert [nal_type(unit) for unit in units].count(5) == 2  # both pictures are IDR frames
    assert (sequence.width_in_mbs, sequence.height_in_mbs, sequence.macroblocks) == (10, 6, 60)
    assert sequence.max_num_ref_frames >= 1

    skip = skip_frame(sequence, picture, frame_num=sequence.max_frame_num + 3)
    assert nal_type(skip) == 1 and skip[0] >> 5 == 2  # a reference P slice
    header = BitReader(rbsp_of(skip))
    assert (header.unsigned(), header.unsigned(), header.unsigned()) == (0, 5, picture.pps_id)
    assert header.bits(sequence.log2_max_frame_num) == 3  # frame_num wraps
    assert len(skip) < 12  # a whole held frame costs a few bytes


def test_compose_held_stream_decodes_to_each_picture_repeated_exactly(tmp_path: Path) -> None:
    encoded = _encode_pictures(tmp_path, ["red", "white", "navy"])
    held = tmp_path / "held.h264"
    held.write_bytes(spliced_stream(encoded, [5, 1, 40]))

    strict = run_tool(
        "ffmpeg", "-v", "error", "-xerror", "-err_detect", "explode+bitstream+buffer+careful",
        "-f", "h264", "-r", str(FPS), "-i", str(held), "-f", "framemd5", "-",
    ).stdout  # fmt: skip
    hashes = [line.split(",")[-1].strip() for line in strict.splitlines() if not line.startswith("#")]
    runs = [(digest, len(list(group))) for digest, group in groupby(hashes)]
    assert [count for _, count in runs] == [5, 1, 40]
    assert len({digest for digest, _ in runs}) == 3
    with pytest.raises(ValueError, match="at least one frame"):
        spliced_stream(encoded, [5, 0, 1])
    with pytest.raises(UnsupportedStreamError, match="expected 2 encoded pictures, found 3"):
        spliced_stream(encoded, [1, 1])


@pytest.mark.parametrize(
    ("extra", "refused"),
    [
        (["-coder", "cabac"], "CABAC"),
        (["-bf", "2", "-force_key_frames", "expr:eq(n,0)"], "order count type 0"),
        (["-g", "1"], "no reference frames"),
    ],
)
def test_compose_held_stream_refuses_what_it_does_not_write_for(tmp_path: Path, extra: list[str], refused: str) -> None:
    encoded = _encode_pictures(tmp_path, ["red", "blue", "green"], *extra)

    with pytest.raises(UnsupportedStreamError, match=refused):
        spliced_stream(encoded, [3, 3, 3])


async def test_compose_held_lesson_encodes_each_distinct_picture_once(tmp_path: Path, fonts: FontSet) -> None:
    narration = [
        make_tone(tmp_path / f"scene-{i}.wav", seconds=seconds, frequency=330 + 110 * i, volume=0.5)
        for i, seconds in enumerate((2.3, 4.1))
    ]
    spec = lesson_spec(2, size="320x180", fps=FPS, subtitles=SubtitleMode.BURN)
    scenes = await narrated_scenes(spec, narration)
    timeline = Timeline.from_durations([scene.duration_sec for scene in scenes], FPS)
    pictures = plan_held_pictures(timeline.boundaries, lesson_cues(scenes, timeline, (320, 180)), FPS)
    assert any(picture.captions for picture in pictures) and any(not picture.captions for picture in pictures)

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    facts = video_facts(result.video)
    assert facts.frames == timeline.boundaries[-1]
    assert facts.r_frame_rate == facts.avg_frame_rate == "30/1"
    assert decode_errors(result.video) == ""
    keyframes = run_tool(
        "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0",
        str(result.video),
    ).stdout.split()  # fmt: skip
    assert sum("K" in flags for flags in keyframes) == len(pictures)
    hashes = [
        line.split(",")[-1].strip()
        for line in run_tool(
            "ffmpeg", "-v", "error", "-i", str(result.video), "-map", "0:v", "-f", "framemd5", "-"
        ).stdout.splitlines()
        if not line.startswith("#")
    ]
    assert [len(list(group)) for _, group in groupby(hashes)] == [picture.frames for picture in pictures]


def _moving_shot(folder: Path, frames: int, *extra: str) -> EncodedShot:
    """``frames`` of a moving test pattern encoded the way a basic lesson's moving shot is (plus ``extra``)."""
    out = folder / "shot.h264"
    run_tool(
        "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=s=160x96:r={FPS}", "-frames:v", str(frames),
        "-vf", "format=yuv420p", *x264_args(FPS), *SPLICEABLE_X264_ARGS, "-x264-params", STITCHABLE, *extra,
        "-f", "h264", str(out),
    )  # fmt: skip
    return EncodedShot(out.read_bytes(), frames)


def test_compose_held_stream_splices_moving_shots_between_pictures(tmp_path: Path) -> None:
    encoded = _encode_pictures(tmp_path, ["red", "navy"])
    shot = _moving_shot(tmp_path, 7)
    spliced = tmp_path / "spliced.h264"
    spliced.write_bytes(spliced_stream(encoded, [shot, 4, shot, 3]))

    strict = run_tool(
        "ffmpeg", "-v", "error", "-xerror", "-err_detect", "explode+bitstream+buffer+careful",
        "-f", "h264", "-r", str(FPS), "-i", str(spliced), "-f", "framemd5", "-",
    ).stdout  # fmt: skip
    hashes = [line.split(",")[-1].strip() for line in strict.splitlines() if not line.startswith("#")]
    assert len(hashes) == 7 + 4 + 7 + 3
    assert len(set(hashes[:7])) == 7 and hashes[:7] == hashes[11:18], "the shot moves, the same both times"
    assert len(set(hashes[7:11])) == 1 and len(set(hashes[18:])) == 1, "the pictures are held"
    with pytest.raises(UnsupportedStreamError, match="7 frames has 5"):
        spliced_stream(encoded, [EncodedShot(_moving_shot(tmp_path, 5).stream, 7), 4, 3])
    with pytest.raises(UnsupportedStreamError, match="parameter sets differ"):
        spliced_stream(encoded, [4, _moving_shot(tmp_path, 3, "-color_primaries", "bt709"), 3])
