"""ffprobe and frame checks shared by the end-to-end tests."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageStat


@dataclass(frozen=True)
class ProbedVideo:
    width: int
    height: int
    video_codec: str
    pix_fmt: str
    audio_codec: str | None
    sample_rate: int | None
    duration_sec: float


def probe(path: Path) -> ProbedVideo:
    raw = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
    data = json.loads(raw)
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    audio = next((s for s in data["streams"] if s["codec_type"] == "audio"), None)
    return ProbedVideo(
        width=int(video["width"]),
        height=int(video["height"]),
        video_codec=video["codec_name"],
        pix_fmt=video["pix_fmt"],
        audio_codec=audio["codec_name"] if audio else None,
        sample_rate=int(audio["sample_rate"]) if audio else None,
        duration_sec=float(data["format"]["duration"]),
    )


def frame_at(path: Path, seconds: float, target: Path) -> Image.Image:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", f"{seconds:.3f}", "-i", str(path), "-frames:v", "1", str(target)],
        check=True,
        timeout=30,
    )
    return Image.open(target).convert("L")


def brightness_spread(image: Image.Image) -> float:
    """Standard deviation of luminance: near 0 for a blank frame, high for text on a background."""
    return float(ImageStat.Stat(image).stddev[0])


def _srt_seconds(stamp: str) -> float:
    clock, millis = stamp.strip().split(",")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds + int(millis) / 1000


def srt_cue_times(text: str) -> list[tuple[float, float]]:
    """(start, end) of every cue in an SRT document, in file order."""
    times = []
    for line in text.splitlines():
        if "-->" in line:
            start, end = line.split("-->")
            times.append((_srt_seconds(start), _srt_seconds(end)))
    return times


def cues_per_scene(cues: list[tuple[float, float]], durations: list[float]) -> list[int]:
    """How many cues fall wholly inside each scene's window; a cue straddling two scenes counts for none."""
    counts = []
    start = 0.0
    for duration in durations:
        end = start + duration
        counts.append(sum(1 for cue_start, cue_end in cues if cue_start >= start - 0.05 and cue_end <= end + 0.05))
        start = end
    return counts
