"""A lesson's soundtrack: the joined narration levelled to the loudness target, with the optional music bed under it."""

from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.audio_mix import music_bed_filter
from reelflow.compose.ffmpeg import SOUNDTRACK_LABEL
from reelflow.compose.loudness import LoudnormMeasurement, loudnorm_filter

MUSIC_FADE_SEC = 1.0


@dataclass(frozen=True)
class MusicBed:
    """Background music as the final mux sees it: the input right after the narration clips."""

    path: Path
    input_index: int
    volume: float


def soundtrack_filter(measured: LoudnormMeasurement, *, music: MusicBed | None, total_sec: float) -> str:
    """Graph text from ``[narration]`` to ``[soundtrack]``.

    The narration alone is normalised (pass 2 of loudnorm), then the music is ducked under it and mixed at
    unit gain. Normalising first matters twice: the ducking threshold assumes speech at the target level (a
    quiet TTS clip would otherwise never trigger it), and the voice, which carries the loudness, lands on
    -16 LUFS whatever the music. A bed at the default volume, ducked under speech and fading in and out,
    adds a fraction of a LU; the compose step measures the finished file and logs it.
    """
    levelled = f"[narration]{loudnorm_filter(measured, duration_sec=total_sec)}"
    if music is None:
        return f"{levelled}[{SOUNDTRACK_LABEL}]"
    return ";".join(
        [
            f"{levelled}[voice]",
            music_bed_filter(
                voice="voice",
                music=f"{music.input_index}:a",
                out=SOUNDTRACK_LABEL,
                volume=music.volume,
                total_sec=total_sec,
                fade_sec=MUSIC_FADE_SEC,
            ),
        ]
    )
