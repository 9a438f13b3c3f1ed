"""Loudness: EBU R128 measurements of the narration (``ebur128``), then one gain and, if needed, a peak limiter.

``loudnorm`` needs two full passes (measure, then normalise) and falls back to dynamic compression whenever
one linear gain would push the peaks over the ceiling. ``ebur128`` measures the same integrated loudness
(ITU-R BS.1770) and the true peak about six times faster. The narration is then lifted or lowered by one
gain, and a look-ahead limiter catches only the peaks that gain would push over the ceiling, so speech keeps
its dynamics. Limiting takes a little loudness away with the peaks (0.8 LU on the benchmark's espeak-ng
narration), and more as the gain grows. So when the limiter is needed, one more quick scan measures the
levelled, limited narration at two gains side by side, and the gain that reaches the target is read off the
line through them. The finished file lands within :data:`TOLERANCE_LU` of the target on
quiet, loud and uneven narration alike (see the compose loudness tests).
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reelflow.compose.ffmpeg import PROGRESS_ON_STDOUT, ChannelLayout, narration_filter
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import RenderError
from reelflow.runtime.processes import ProgressCallback, run_process

TARGET_LUFS = -16.0  # integrated loudness of every published lesson (the usual level for online video)
TARGET_TRUE_PEAK_DBTP = -1.5  # headroom for the AAC encoder's overshoot
TARGET_LRA_LU = 11.0
TOLERANCE_LU = 1.0
# BS.1770's absolute gate: anything quieter is treated as silence and cannot be normalised.
SILENCE_LUFS = -70.0
# The limiter looks this far ahead, so it turns a peak down smoothly before it arrives, and lets go over
# the release time, long enough not to distort speech and short enough that no word is audibly ducked.
LIMITER_ATTACK_MS = 5.0
LIMITER_RELEASE_MS = 50.0
# The two gains a limited levelling is probed at, this far apart: about what limiting speech takes away.
PROBE_STEP_DB = 1.5

_SUMMARY_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?(?:\d+(?:\.\d+)?|inf))\s*LUFS")
_SUMMARY_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?(?:\d+(?:\.\d+)?|inf))\s*dBFS")
_SCANNER_SUMMARY = re.compile(
    r"\[Parsed_ebur128_(\d+) @ [^\]]*\] Summary:\s*Integrated loudness:\s*I:\s*(-?(?:\d+(?:\.\d+)?|inf))\s*LUFS"
)


@dataclass(frozen=True)
class LoudnessMeasurement:
    """The narration's integrated loudness (LUFS) and true peak (dBTP), as ``ebur128`` measured them."""

    integrated_lufs: float
    true_peak_dbtp: float

    @property
    def is_silent(self) -> bool:
        return not math.isfinite(self.integrated_lufs) or self.integrated_lufs <= SILENCE_LUFS


def loudnorm_targets() -> str:
    """The loudness every composed video aims at, as ``loudnorm`` options (ranking shorts level each clip so)."""
    return f"I={TARGET_LUFS:g}:TP={TARGET_TRUE_PEAK_DBTP:g}:LRA={TARGET_LRA_LU:g}"


@dataclass(frozen=True)
class Levelling:
    """How the narration is brought to the target: one gain, and a peak limiter when the gain needs one."""

    gain_db: float
    limited: bool

    @classmethod
    def for_measurement(cls, measured: LoudnessMeasurement) -> "Levelling":
        """The gain that brings ``measured`` to :data:`TARGET_LUFS`, limited if it lifts the true peak over the
        ceiling. Silence is left as it is: no gain lifts it."""
        if measured.is_silent:
            return cls(gain_db=0.0, limited=False)
        gain = TARGET_LUFS - measured.integrated_lufs
        return cls(gain_db=gain, limited=measured.true_peak_dbtp + gain > TARGET_TRUE_PEAK_DBTP)

    def probes(self) -> tuple["Levelling", "Levelling"]:
        """This levelling and one :data:`PROBE_STEP_DB` louder, to be measured side by side."""
        return self, replace(self, gain_db=self.gain_db + PROBE_STEP_DB)

    def fitted(self, probed: Sequence[tuple["Levelling", float]]) -> "Levelling":
        """The gain that reaches the target on the line through two probed (levelling, measured LUFS) points.

        When the probes cannot be read as a line (silence, or the louder probe not measuring louder), the
        gain is only raised by what the first probe fell short.
        """
        (low, low_lufs), (high, high_lufs) = probed
        if not all(math.isfinite(value) and value > SILENCE_LUFS for value in (low_lufs, high_lufs)):
            return self
        if high_lufs - low_lufs <= 0.1 * (high.gain_db - low.gain_db):
            return replace(self, gain_db=low.gain_db + TARGET_LUFS - low_lufs)
        slope = (high_lufs - low_lufs) / (high.gain_db - low.gain_db)
        return replace(self, gain_db=low.gain_db + (TARGET_LUFS - low_lufs) / slope)

    def filter(self) -> str:
        """Filter text for this levelling: ``volume``, then ``alimiter`` with its delay compensated (nothing
        moves in time) and its auto-level off (it never raises the level) when the peaks need it."""
        if self.gain_db == 0.0 and not self.limited:
            return "anull"
        levelled = f"volume={self.gain_db:.2f}dB"
        if not self.limited:
            return levelled
        ceiling = 10 ** (TARGET_TRUE_PEAK_DBTP / 20)
        return (
            f"{levelled},alimiter=limit={ceiling:.4f}:attack={LIMITER_ATTACK_MS:g}:release={LIMITER_RELEASE_MS:g}"
            ":level=false:latency=true"
        )


def loudness_scan_filter() -> str:
    """``ebur128`` measuring integrated loudness and true peak; only its end-of-run summary is logged."""
    return "ebur128=peak=true:framelog=verbose"


def narration_loudness_args(
    audio_paths: Sequence[Path],
    durations: Sequence[float],
    *,
    layout: ChannelLayout,
    probes: Sequence[Levelling] = (),
) -> list[str]:
    """Measure the narration exactly as the soundtrack will be built from it (clips padded, joined, in ``layout``).

    Without ``probes`` the narration is measured as it is, integrated loudness and true peak
    (:func:`parse_loudness_summary`). With them, it is measured after each levelling, side by side in one
    run, integrated loudness only (:func:`parse_probed_lufs`). Only the WAVs are read, never the video.
    """
    if len(audio_paths) != len(durations) or not audio_paths:
        raise ValueError(f"need one duration per narration clip, got {len(durations)} for {len(audio_paths)}")
    args = ["ffmpeg", "-hide_banner", "-nostdin"]
    for audio in audio_paths:
        args += ["-i", str(audio)]
    chains = [narration_filter(durations, first_input=0, layout=layout)]
    if not probes:
        chains.append(f"[narration]{loudness_scan_filter()}[measured0]")
    else:
        chains.append(f"[narration]asplit={len(probes)}" + "".join(f"[probe{i}]" for i in range(len(probes))))
        chains += [
            f"[probe{i}]{levelling.filter()},ebur128=framelog=verbose[measured{i}]"
            for i, levelling in enumerate(probes)
        ]
    maps = [arg for index in range(max(1, len(probes))) for arg in ("-map", f"[measured{index}]")]
    return [*args, "-filter_complex", ";".join(chains), *maps, *PROGRESS_ON_STDOUT, "-f", "null", "-"]


def parse_probed_lufs(stderr: str, count: int) -> list[float]:
    """The integrated loudness each of ``count`` scanners in one graph measured, in the order of the graph.

    FFmpeg configures a filter graph once before it runs it, and the scanners of that first, unfed graph
    print summaries too; each scanner's last summary is the one that measured the audio.
    """
    measured = {int(index): float(value) for index, value in _SCANNER_SUMMARY.findall(stderr)}
    if len(measured) != count:
        raise RenderError(f"the loudness probes printed {len(measured)} summaries, expected {count}")
    return [measured[index] for index in sorted(measured)]


def _decibels(raw: str) -> float:
    return float(raw)  # "-inf" reads as -inf


def parse_loudness_summary(stderr: str) -> LoudnessMeasurement:
    """Integrated loudness and true peak from the summary ``ebur128`` prints when the run ends."""
    integrated = _SUMMARY_INTEGRATED.findall(stderr)
    peaks = _SUMMARY_TRUE_PEAK.findall(stderr)
    if not integrated or not peaks:
        raise RenderError("the loudness scan printed no integrated loudness and true peak summary")
    return LoudnessMeasurement(integrated_lufs=_decibels(integrated[-1]), true_peak_dbtp=_decibels(peaks[-1]))


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
    layout: ChannelLayout = "mono",
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> LoudnessMeasurement:
    """Measure the joined narration (see :func:`narration_loudness_args`)."""
    result = await run_process(
        narration_loudness_args(audio_paths, durations, layout=layout),
        timeout_sec=timeout_sec,
        cancel=cancel,
        expected_duration_sec=sum(durations),
        on_progress=on_progress,
    )
    return parse_loudness_summary(result.stderr)


async def narration_levelling(
    audio_paths: Sequence[Path],
    durations: Sequence[float],
    *,
    timeout_sec: float,
    layout: ChannelLayout = "mono",
    cancel: CancelToken | None = None,
) -> Levelling:
    """How to level the joined narration: measured once, and probed once more when it needs a limiter."""
    levelling = Levelling.for_measurement(
        await measure_narration(audio_paths, durations, timeout_sec=timeout_sec, layout=layout, cancel=cancel)
    )
    if not levelling.limited:
        return levelling
    probes = levelling.probes()
    result = await run_process(
        narration_loudness_args(audio_paths, durations, layout=layout, probes=probes),
        timeout_sec=timeout_sec,
        cancel=cancel,
    )
    return levelling.fitted(list(zip(probes, parse_probed_lufs(result.stderr, len(probes)), strict=True)))
