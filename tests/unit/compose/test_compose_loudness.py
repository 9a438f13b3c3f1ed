"""Two-pass loudness normalisation: quiet and loud narration both come out at -16 LUFS, measured with ebur128."""

import math
from pathlib import Path

import pytest
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import integrated_lufs, make_tone, run_tool

from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import compose_lesson
from reelflow.compose.loudness import (
    TARGET_LUFS,
    TOLERANCE_LU,
    LoudnormMeasurement,
    linear_gain_db,
    loudnorm_analysis_args,
    loudnorm_filter,
    measure_integrated_lufs,
    measure_narration,
    parse_integrated_lufs,
    parse_loudnorm_json,
)
from reelflow.runtime.failures import RenderError

LOUDNORM_STDERR = """
[Parsed_loudnorm_6 @ 0x55a6dd982a00]
{
\t"input_i" : "-20.69",
\t"input_tp" : "-5.55",
\t"input_lra" : "0.00",
\t"input_thresh" : "-31.73",
\t"output_i" : "-30.77",
\t"output_tp" : "-15.62",
\t"output_lra" : "0.00",
\t"output_thresh" : "-41.81",
\t"normalization_type" : "dynamic",
\t"target_offset" : "1.50"
}
"""

EBUR128_STDERR = """
[Parsed_ebur128_0 @ 0x1] t: 1.4     TARGET:-23 LUFS    M: -22.6 S:-120.7     I: -22.6 LUFS       LRA:   0.0 LU
[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -16.3 LUFS
    Threshold: -26.3 LUFS
"""

MEASURED = LoudnormMeasurement(input_i=-30.0, input_tp=-20.0, input_lra=0.0, input_thresh=-40.0, target_offset=0.4)


def test_compose_loudness_reads_the_loudnorm_json_block() -> None:
    measured = parse_loudnorm_json("noise before\n" + LOUDNORM_STDERR)

    assert measured == LoudnormMeasurement(
        input_i=-20.69, input_tp=-5.55, input_lra=0.0, input_thresh=-31.73, target_offset=1.5
    )
    assert not measured.is_silent


def test_compose_loudness_silence_is_recognised() -> None:
    silent = parse_loudnorm_json(LOUDNORM_STDERR.replace('"-20.69"', '"-inf"'))

    assert math.isinf(silent.input_i) and silent.is_silent
    assert loudnorm_filter(silent, duration_sec=10.0) == "anull"


def test_compose_loudness_without_a_measurement_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="no loudnorm measurement"):
        parse_loudnorm_json("ffmpeg exited early")


def test_compose_loudness_reads_the_summary_not_the_running_values() -> None:
    assert parse_integrated_lufs(EBUR128_STDERR) == -16.3
    with pytest.raises(RenderError, match="no integrated loudness"):
        parse_integrated_lufs("nothing here")


def test_compose_loudness_second_pass_applies_every_measured_value_linearly() -> None:
    text = loudnorm_filter(MEASURED, duration_sec=30.0)

    assert text.startswith("loudnorm=I=-16:TP=-1.5:LRA=11:")
    for part in [
        "measured_I=-30.00",
        "measured_TP=-20.00",
        "measured_LRA=0.10",  # 0 would make loudnorm refuse linear mode
        "measured_thresh=-40.00",
        "offset=0.40",
        "linear=true",
    ]:
        assert part in text.split(",")[0].split(":")
    assert text.endswith(",aresample=48000,aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo")


def test_compose_loudness_short_narration_gets_one_gain_capped_by_the_true_peak() -> None:
    assert loudnorm_filter(MEASURED, duration_sec=2.0) == "volume=14.00dB"
    peaky = LoudnormMeasurement(input_i=-20.0, input_tp=-1.0, input_lra=0.0, input_thresh=-30.0, target_offset=0.0)
    assert linear_gain_db(peaky) == pytest.approx(-0.5)  # the peak ceiling wins over the +4 dB the level wants


def test_compose_loudness_analysis_reads_only_the_narration() -> None:
    args = loudnorm_analysis_args([Path("/w/a.wav"), Path("/w/b.wav")], [1.5, 2.0])

    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/a.wav", "/w/b.wav"]
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:a]") and "atrim=end=1.5" in graph and "atrim=end=2," in graph
    assert graph.endswith("[narration]loudnorm=I=-16:TP=-1.5:LRA=11:print_format=json[measured]")
    assert args[-3:] == ["-f", "null", "-"]


@pytest.fixture(scope="module")
def levels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """Two 1.6 s scenes per level: -35 LUFS (quiet) and -8 LUFS (loud) once brought to stereo."""
    folder = tmp_path_factory.mktemp("levels")
    return {
        name: [
            make_tone(folder / f"{name}-{i}.wav", seconds=1.6, frequency=440 + 220 * i, volume=volume) for i in range(2)
        ]
        for name, volume in [("quiet", 0.22), ("loud", 4.8)]
    }


@pytest.mark.parametrize(("level", "expected_input_lufs"), [("quiet", -35.0), ("loud", -8.0)])
async def test_compose_loudness_quiet_and_loud_narration_land_on_target(
    tmp_path: Path, fonts: FontSet, levels: dict[str, list[Path]], level: str, expected_input_lufs: float
) -> None:
    wavs = levels[level]
    spec = lesson_spec(2, size="160x90", fps=10)
    scenes = await narrated_scenes(spec, wavs)
    durations = [item.duration_sec for item in scenes]
    measured = await measure_narration(wavs, durations, timeout_sec=60)
    assert abs(measured.input_i - expected_input_lufs) <= 1.0  # the input really is that quiet / loud

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU
    assert await measure_integrated_lufs(result.video, timeout_sec=60) == pytest.approx(integrated_lufs(result.video))


async def test_compose_loudness_short_speech_lands_on_target(tmp_path: Path, fonts: FontSet) -> None:
    speech = tmp_path / "speech.wav"
    run_tool("espeak-ng", "-v", "en", "-a", "60", "-w", str(speech), "Check your links.")
    spec = lesson_spec(1, size="160x90", fps=10)
    scenes = await narrated_scenes(spec, [speech])
    assert scenes[0].duration_sec < 3.0  # shorter than loudnorm's window: the capped linear gain applies

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU


async def test_compose_loudness_silent_narration_still_composes(tmp_path: Path, fonts: FontSet) -> None:
    silence = make_tone(tmp_path / "silence.wav", seconds=1.0, volume=0.0)
    spec = lesson_spec(1, size="160x90", fps=10)

    result = await compose_lesson(
        spec, await narrated_scenes(spec, [silence]), tmp_path / "out", fonts=fonts, report=ignore_progress
    )

    assert integrated_lufs(result.video) <= -70.0
