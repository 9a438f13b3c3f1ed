"""Loudness: quiet, loud, uneven and peaky narration all come out at -16 LUFS, measured with ebur128."""

import math
from pathlib import Path

import pytest
from tests.lesson_fixtures import ignore_progress, lesson_spec, narrated_scenes
from tests.media_probes import integrated_lufs, make_tone, run_tool

from reelflow.compose.fonts import FontSet
from reelflow.compose.lesson import compose_lesson
from reelflow.compose.loudness import (
    PROBE_STEP_DB,
    TARGET_LUFS,
    TARGET_TRUE_PEAK_DBTP,
    TOLERANCE_LU,
    Levelling,
    LoudnessMeasurement,
    measure_integrated_lufs,
    measure_narration,
    narration_loudness_args,
    parse_integrated_lufs,
    parse_loudness_summary,
    parse_probed_lufs,
)
from reelflow.runtime.failures import RenderError

EBUR128_STDERR = """
[Parsed_ebur128_0 @ 0x1] t: 1.4     TARGET:-23 LUFS    M: -22.6 S:-120.7     I: -22.6 LUFS       LRA:   0.0 LU
[Parsed_ebur128_0 @ 0x1] Summary:

  Integrated loudness:
    I:         -16.3 LUFS
    Threshold: -26.3 LUFS

  Loudness range:
    LRA:         1.5 LU
    Threshold: -41.3 LUFS
    LRA low:   -22.0 LUFS
    LRA high:  -20.6 LUFS

  True peak:
    Peak:       -1.2 dBFS
"""


def _summary(index: int, lufs: str) -> str:
    return f"[Parsed_ebur128_{index} @ 0x5] Summary:\n\n  Integrated loudness:\n    I:         {lufs} LUFS\n"


def test_compose_loudness_reads_the_summary_not_the_running_values() -> None:
    assert parse_integrated_lufs(EBUR128_STDERR) == -16.3
    assert parse_loudness_summary(EBUR128_STDERR) == LoudnessMeasurement(integrated_lufs=-16.3, true_peak_dbtp=-1.2)
    with pytest.raises(RenderError, match="no integrated loudness"):
        parse_integrated_lufs("nothing here")
    with pytest.raises(RenderError, match="true peak"):
        parse_loudness_summary(EBUR128_STDERR.split("True peak")[0])


def test_compose_loudness_silence_is_left_alone() -> None:
    silent = parse_loudness_summary(
        EBUR128_STDERR.replace("-16.3 LUFS", "-70.0 LUFS").replace("-1.2 dBFS", "-inf dBFS")
    )

    assert silent.is_silent and math.isinf(silent.true_peak_dbtp)
    assert Levelling.for_measurement(silent).filter() == "anull"


def test_compose_loudness_one_gain_and_a_limiter_only_when_the_peaks_need_it() -> None:
    quiet_and_clean = Levelling.for_measurement(LoudnessMeasurement(integrated_lufs=-30.0, true_peak_dbtp=-20.0))
    assert quiet_and_clean == Levelling(gain_db=14.0, limited=False)
    assert quiet_and_clean.filter() == "volume=14.00dB"

    peaky = Levelling.for_measurement(LoudnessMeasurement(integrated_lufs=-21.1, true_peak_dbtp=-1.2))
    assert peaky.gain_db == pytest.approx(5.1) and peaky.limited
    volume, limiter = peaky.filter().split(",")
    assert volume == "volume=5.10dB"
    assert limiter.startswith("alimiter=limit=0.8414:")  # -1.5 dBTP as a linear sample ceiling
    for option in ("level=false", "latency=true"):  # never auto-levelled, never shifted in time
        assert option in limiter.split(":")

    loud = Levelling.for_measurement(LoudnessMeasurement(integrated_lufs=-8.0, true_peak_dbtp=-0.5))
    assert loud == Levelling(gain_db=-8.0, limited=False)  # lowering never needs a limiter
    assert TARGET_TRUE_PEAK_DBTP == -1.5


def test_compose_loudness_limited_gain_is_read_off_the_line_through_two_probes() -> None:
    levelling = Levelling(gain_db=5.1, limited=True)
    low, high = levelling.probes()
    assert low.gain_db == 5.1
    assert high.gain_db == pytest.approx(5.1 + PROBE_STEP_DB)

    # limiting took 0.8 LU at the first gain, and 1.5 dB more gain bought 0.8 LU more loudness
    fitted = levelling.fitted([(low, -16.8), (high, -16.0)])
    assert fitted.limited and fitted.gain_db == pytest.approx(5.1 + 1.5)
    # a second probe that does not measure louder cannot be extrapolated: only the shortfall is added
    assert levelling.fitted([(low, -16.8), (high, -16.8)]).gain_db == pytest.approx(5.9)
    assert levelling.fitted([(low, -70.0), (high, -70.0)]) == levelling


def test_compose_loudness_probes_keep_each_scanners_last_summary_in_graph_order() -> None:
    # FFmpeg configures the graph once before running it; those unfed scanners print -70 first.
    stderr = _summary(67, "-70.0") + _summary(64, "-70.0") + _summary(67, "-16.0") + _summary(64, "-16.8")

    assert parse_probed_lufs(stderr, 2) == [-16.8, -16.0]
    with pytest.raises(RenderError, match="2 summaries, expected 3"):
        parse_probed_lufs(stderr, 3)


def test_compose_loudness_scans_read_only_the_narration() -> None:
    args = narration_loudness_args([Path("/w/a.wav"), Path("/w/b.wav")], [1.5, 2.0], layout="mono")

    inputs = [args[i + 1] for i, arg in enumerate(args) if arg == "-i"]
    assert inputs == ["/w/a.wav", "/w/b.wav"]
    graph = args[args.index("-filter_complex") + 1]
    assert graph.startswith("[0:a]") and "atrim=end=1.5" in graph and "atrim=end=2," in graph
    assert "channel_layouts=mono" in graph
    assert graph.endswith("[narration]ebur128=peak=true:framelog=verbose[measured0]")
    assert args[-3:] == ["-f", "null", "-"]

    probes = Levelling(gain_db=5.0, limited=True).probes()
    probed = narration_loudness_args([Path("/w/a.wav")], [1.5], layout="stereo", probes=probes)
    chains = probed[probed.index("-filter_complex") + 1].split(";")
    assert "channel_layouts=stereo" in chains[0]
    assert chains[-3] == "[narration]asplit=2[probe0][probe1]"
    assert chains[-2].startswith("[probe0]volume=5.00dB,alimiter=") and chains[-2].endswith("[measured0]")
    assert chains[-1].startswith("[probe1]volume=6.50dB,alimiter=") and chains[-1].endswith("[measured1]")
    assert [probed[i + 1] for i, arg in enumerate(probed) if arg == "-map"] == ["[measured0]", "[measured1]"]


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
    assert abs(measured.integrated_lufs - expected_input_lufs) <= 1.0  # the input really is that quiet / loud

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU
    assert await measure_integrated_lufs(result.video, timeout_sec=60) == pytest.approx(integrated_lufs(result.video))


async def test_compose_loudness_short_speech_lands_on_target(tmp_path: Path, fonts: FontSet) -> None:
    speech = tmp_path / "speech.wav"
    run_tool("espeak-ng", "-v", "en", "-a", "60", "-w", str(speech), "Check your links.")
    spec = lesson_spec(1, size="160x90", fps=10)
    scenes = await narrated_scenes(spec, [speech])
    assert scenes[0].duration_sec < 3.0  # shorter than one 3 s loudness window

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU


async def test_compose_loudness_silent_narration_still_composes(tmp_path: Path, fonts: FontSet) -> None:
    silence = make_tone(tmp_path / "silence.wav", seconds=1.0, volume=0.0)
    spec = lesson_spec(1, size="160x90", fps=10)

    result = await compose_lesson(
        spec, await narrated_scenes(spec, [silence]), tmp_path / "out", fonts=fonts, report=ignore_progress
    )

    assert integrated_lufs(result.video) <= -70.0


async def test_compose_loudness_uneven_scenes_land_on_target(tmp_path: Path, fonts: FontSet) -> None:
    """A whisper-quiet scene between two loud ones: one gain for the whole narration still reaches the target."""
    wavs = [
        make_tone(tmp_path / "loud.wav", seconds=3.2, frequency=440, volume=4.8),
        make_tone(tmp_path / "quiet.wav", seconds=3.2, frequency=660, volume=0.05),
        make_tone(tmp_path / "middle.wav", seconds=3.2, frequency=880, volume=1.0),
    ]
    spec = lesson_spec(3, size="160x90", fps=10)
    scenes = await narrated_scenes(spec, wavs)

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU


async def test_compose_loudness_peaky_speech_is_limited_and_lands_on_target(tmp_path: Path, fonts: FontSet) -> None:
    speech = tmp_path / "speech.wav"
    sentence = "Phishing messages pretend to come from someone you trust. Check the sender before you click any link."
    run_tool("espeak-ng", "-v", "en", "-a", "200", "-w", str(speech), sentence)
    spec = lesson_spec(1, size="160x90", fps=10)
    scenes = await narrated_scenes(spec, [speech])
    measured = await measure_narration([speech], [scenes[0].duration_sec], timeout_sec=60)
    assert Levelling.for_measurement(measured).limited  # the gain to -16 LUFS would push its peaks over -1.5 dBTP

    result = await compose_lesson(spec, scenes, tmp_path / "out", fonts=fonts, report=ignore_progress)

    assert abs(integrated_lufs(result.video) - TARGET_LUFS) <= TOLERANCE_LU
