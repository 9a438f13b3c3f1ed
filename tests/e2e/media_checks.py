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


def srt_cue_count(text: str) -> int:
    return sum(1 for line in text.splitlines() if "-->" in line)
