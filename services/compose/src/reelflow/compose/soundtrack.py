"""A lesson's soundtrack, made beside its picture: the joined narration levelled to the loudness target, the
optional music bed under it, encoded once to AAC for the final mux to copy."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reelflow.compose.audio_mix import music_bed_filter
from reelflow.compose.ffmpeg import (
    FFMPEG_WRITING,
    PROGRESS_ON_STDOUT,
    SOUNDTRACK_LABEL,
    ChannelLayout,
    aac_args,
    narration_filter,
    seconds_text,
)
from reelflow.compose.loudness import Levelling

MUSIC_FADE_SEC = 1.0
# Measures what is encoded, for the log line that reports the finished lesson's loudness; a pass-through.
_FINAL_LOUDNESS_SCAN = "ebur128=framelog=verbose"


@dataclass(frozen=True)
class MusicBed:
    """Background music as the soundtrack encode sees it: the input right after the narration clips."""

    path: Path
    input_index: int
    volume: float
    gain_db: float = 0.0  # brings the file to the published loudness before ``volume`` (see ``music_gain_db``)


def soundtrack_layout(music: MusicBed | None) -> ChannelLayout:
    """Narration alone is speech on one channel; a music bed is stereo, so the mix is too."""
    return "mono" if music is None else "stereo"


def soundtrack_filter(levelling: Levelling, *, music: MusicBed | None, total_sec: float) -> str:
    """Graph text from ``[narration]`` to ``[soundtrack]``.

    The narration alone is levelled (:class:`Levelling`), then the music is ducked under it and mixed at
    unit gain. Levelling first matters twice: the ducking threshold assumes speech at the target level (a
    quiet TTS clip would otherwise never trigger it), and the voice, which carries the loudness, lands on
    -16 LUFS whatever the music. A bed at the default volume, ducked under speech and fading in and out,
    adds a fraction of a LU; the encode measures what it writes and the compose step logs it.
    """
    levelled = f"[narration]{levelling.filter()}"
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
                gain_db=music.gain_db,
                total_sec=total_sec,
                fade_sec=MUSIC_FADE_SEC,
            ),
        ]
    )


def soundtrack_args(
    audio_paths: Sequence[Path],
    segment_durations: Sequence[float],
    out_path: Path,
    *,
    levelling: Levelling,
    music: MusicBed | None,
    total_sec: float,
) -> list[str]:
    """Encode the whole soundtrack to AAC in an MP4 audio file (``.m4a``), for the final mux to copy.

    Each narration clip is padded or trimmed to its scene (``segment_durations``, the exact frame-aligned
    lengths) so every scene's sound starts on the frame its picture does. The music, when there is one, is
    the input after the narration clips, opened with ``-stream_loop -1`` so a short file covers the lesson.
    The MP4 container keeps the encoder's priming in its edit list, so the copy stays sample-exact.
    """
    if len(audio_paths) != len(segment_durations) or not audio_paths:
        raise ValueError(
            f"need one narration clip per segment, got {len(audio_paths)} clips for {len(segment_durations)} segments"
        )
    if music is not None and music.input_index != len(audio_paths):
        raise ValueError(f"the music must be input {len(audio_paths)}, right after the narration clips")
    layout = soundtrack_layout(music)
    args = list(FFMPEG_WRITING)
    for audio in audio_paths:
        args += ["-i", str(audio)]
    if music is not None:
        args += ["-stream_loop", "-1", "-i", str(music.path)]
    graph = ";".join(
        [
            narration_filter(segment_durations, first_input=0, layout=layout),
            soundtrack_filter(levelling, music=music, total_sec=total_sec),
            f"[{SOUNDTRACK_LABEL}]{_FINAL_LOUDNESS_SCAN}[encoded]",
        ]
    )
    return [
        *args,
        "-filter_complex",
        graph,
        "-map",
        "[encoded]",
        *aac_args(layout),
        "-t",
        seconds_text(total_sec),
        *PROGRESS_ON_STDOUT,
        "-f",
        "mp4",
        str(out_path),
    ]
