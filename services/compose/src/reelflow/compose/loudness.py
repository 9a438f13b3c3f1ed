"""Loudness: two-pass EBU R128 normalisation of the narration (``loudnorm``) and measuring a file (``ebur128``)."""

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.ffmpeg import AUDIO_SAMPLE_RATE, PROGRESS_ON_STDOUT, STEREO_48K, narration_filter
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import RenderError
from reelflow.runtime.processes import ProgressCallback, run_process

TARGET_LUFS = -16.0  # integrated loudness of every published lesson (the usual level for online video)
TARGET_TRUE_PEAK_DBTP = -1.5  # headroom for the AAC encoder's overshoot
TARGET_LRA_LU = 11.0
TOLERANCE_LU = 1.0
# BS.1770's absolute gate: anything quieter is treated as silence and cannot be normalised.
SILENCE_LUFS = -70.0
# loudnorm reads a measured LRA of exactly 0 as "not measured" and then refuses linear mode; narration shorter
# than one 3 s short-term window measures 0, and a single linear gain is exactly what such a clip needs.
MIN_MEASURED_LRA_LU = 0.1
# loudnorm's dynamic mode works on 3 s windows; on anything shorter its output level is unreliable.
DYNAMIC_WINDOW_SEC = 3.0

_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.DOTALL)
_SUMMARY_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?(?:\d+(?:\.\d+)?|inf))\s*LUFS")


@dataclass(frozen=True)
class LoudnormMeasurement:
    """What ``loudnorm`` measured in its first pass; the second pass needs all of it to apply one linear gain."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    @property
    def is_silent(self) -> bool:
        return not math.isfinite(self.input_i) or self.input_i <= SILENCE_LUFS


def loudnorm_targets() -> str:
    """The loudness every composed video aims at, as ``loudnorm`` options (lessons and ranking shorts alike)."""
    return f"I={TARGET_LUFS:g}:TP={TARGET_TRUE_PEAK_DBTP:g}:LRA={TARGET_LRA_LU:g}"


def loudnorm_analysis_args(audio_paths: Sequence[Path], durations: Sequence[float]) -> list[str]:
    """Pass 1: measure the narration exactly as the final mux will build it (clips padded and joined).

    Only the WAVs are read, never the video. ``loudnorm`` prints its measurement as JSON on stderr when the
    run ends; :func:`parse_loudnorm_json` reads it back.
    """
    if len(audio_paths) != len(durations) or not audio_paths:
        raise ValueError(f"need one duration per narration clip, got {len(durations)} for {len(audio_paths)}")
    args = ["ffmpeg", "-hide_banner", "-nostdin"]
    for audio in audio_paths:
        args += ["-i", str(audio)]
    measure = f"[narration]loudnorm={loudnorm_targets()}:print_format=json[measured]"
    graph = f"{narration_filter(durations, first_input=0)};{measure}"
    return [*args, "-filter_complex", graph, "-map", "[measured]", *PROGRESS_ON_STDOUT, "-f", "null", "-"]


def _number(raw: object) -> float:
    """loudnorm writes numbers as strings, ``"-inf"`` for silence."""
    return float(str(raw).strip())


def parse_loudnorm_json(stderr: str) -> LoudnormMeasurement:
    """The last loudnorm JSON block in an FFmpeg run's stderr."""
    blocks = _JSON_BLOCK.findall(stderr)
    if not blocks:
        raise RenderError("the loudness analysis printed no loudnorm measurement")
    try:
        data = json.loads(blocks[-1])
        return LoudnormMeasurement(
            input_i=_number(data["input_i"]),
            input_tp=_number(data["input_tp"]),
            input_lra=_number(data["input_lra"]),
            input_thresh=_number(data["input_thresh"]),
            target_offset=_number(data["target_offset"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise RenderError(f"the loudnorm measurement could not be read ({exc})") from exc


def linear_gain_db(measured: LoudnormMeasurement) -> float:
    """The single gain that reaches the target, lowered if needed so the true peak stays under the ceiling."""
    return min(TARGET_LUFS - measured.input_i, TARGET_TRUE_PEAK_DBTP - measured.input_tp)


def loudnorm_filter(measured: LoudnormMeasurement, *, duration_sec: float) -> str:
    """Pass 2: one filter chain that brings the measured audio to the target, at 48 kHz stereo.

    With the pass-1 values loudnorm applies a single linear gain whenever the true-peak ceiling allows it, so
    speech keeps its dynamics; otherwise it falls back to its dynamic mode, still aiming at the target. Its
    output runs at 192 kHz, hence the ``aresample``; its dynamic mode also leaves the channel layout unset,
    which the AAC encoder cannot negotiate, hence the ``aformat``.

    Narration shorter than loudnorm's 3 s window gets :func:`linear_gain_db` as a plain ``volume`` instead,
    since the dynamic fallback cannot be trusted there. Silence passes untouched: no gain lifts it.
    """
    if measured.is_silent:
        return "anull"
    if duration_sec < DYNAMIC_WINDOW_SEC:
        return f"volume={linear_gain_db(measured):.2f}dB"
    return (
        f"loudnorm={loudnorm_targets()}"
        f":measured_I={measured.input_i:.2f}:measured_TP={measured.input_tp:.2f}"
        f":measured_LRA={max(measured.input_lra, MIN_MEASURED_LRA_LU):.2f}:measured_thresh={measured.input_thresh:.2f}"
        f":offset={measured.target_offset:.2f}:linear=true:print_format=none,"
        f"aresample={AUDIO_SAMPLE_RATE},{STEREO_48K}"
    )


def ebur128_args(media: Path) -> list[str]:
    """Measure a file's integrated loudness with the ``ebur128`` scanner (audio only; the video is not decoded)."""
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-i",
        str(media),
        "-vn",
        "-filter_complex",
        "[0:a:0]ebur128=framelog=verbose",
        "-f",
        "null",
        "-",
    ]


def parse_integrated_lufs(stderr: str) -> float:
    """The integrated loudness (``I: … LUFS``) from the summary ``ebur128`` prints when the run ends."""
    found = _SUMMARY_INTEGRATED.findall(stderr)
    if not found:
        raise RenderError("the ebur128 scan printed no integrated loudness summary")
    return float(found[-1])


async def measure_integrated_lufs(
    media: Path,
    *,
    timeout_sec: float,
    cancel: CancelToken | None = None,
) -> float:
    """Integrated loudness of ``media``'s first audio stream, in LUFS (``-inf`` never: silence reads -70)."""
    result = await run_process(ebur128_args(media), timeout_sec=timeout_sec, cancel=cancel)
    return parse_integrated_lufs(result.stderr)


async def measure_narration(
    audio_paths: Sequence[Path],
    durations: Sequence[float],
    *,
    timeout_sec: float,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> LoudnormMeasurement:
    """Run pass 1 over the joined narration (see :func:`loudnorm_analysis_args`)."""
    result = await run_process(
        loudnorm_analysis_args(audio_paths, durations),
        timeout_sec=timeout_sec,
        cancel=cancel,
        expected_duration_sec=sum(durations),
        on_progress=on_progress,
    )
    return parse_loudnorm_json(result.stderr)
