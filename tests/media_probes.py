"""ffprobe, audio-level and frame helpers shared by the compose tests (synthetic media in, measured facts out)."""

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageStat

TOOL_TIMEOUT_SEC = 60


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SEC)


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    codec: str
    profile: str
    pix_fmt: str
    r_frame_rate: str
    avg_frame_rate: str
    frames: int
    audio_codec: str
    sample_rate: int
    duration_sec: float


def video_facts(path: Path) -> VideoFacts:
    data = json.loads(
        run_tool(
            "ffprobe",
            "-v",
            "error",
            "-count_packets",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            str(path),
        ).stdout
    )
    video = next(s for s in data["streams"] if s["codec_type"] == "video")
    audio = next(s for s in data["streams"] if s["codec_type"] == "audio")
    return VideoFacts(
        width=int(video["width"]),
        height=int(video["height"]),
        codec=video["codec_name"],
        profile=video["profile"],
        pix_fmt=video["pix_fmt"],
        r_frame_rate=video["r_frame_rate"],
        avg_frame_rate=video["avg_frame_rate"],
        frames=int(video["nb_read_packets"]),
        audio_codec=audio["codec_name"],
        sample_rate=int(audio["sample_rate"]),
        duration_sec=float(data["format"]["duration"]),
    )


def top_level_boxes(mp4: Path) -> list[str]:
    """The MP4's top-level box types in file order (``moov`` before ``mdat`` means +faststart)."""
    data = mp4.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return boxes


def make_tone(
    path: Path, *, seconds: float, frequency: int = 440, volume: float = 1.0, rate: int = 24000, channels: int = 1
) -> Path:
    """A sine clip (mono by default); FFmpeg's ``sine`` source is at 1/8 full scale, so ``volume`` scales from there."""
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={frequency}:duration={seconds},volume={volume}",
        "-ar",
        str(rate),
        "-ac",
        str(channels),
        str(path),
    )
    return path


def make_silence_then_tone(
    path: Path, *, silence_sec: float, tone_sec: float, frequency: int = 1000, trailing_sec: float = 0.0
) -> Path:
    """Speech stand-in with known pauses: ``silence_sec`` of silence, a tone, then ``trailing_sec`` of silence."""
    delay = f"adelay={round(silence_sec * 1000)}:all=1"
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={frequency}:duration={tone_sec},volume=2,{delay},apad=pad_dur={trailing_sec}",
        "-ar",
        "24000",
        str(path),
    )
    return path


def integrated_lufs(path: Path) -> float:
    stderr = run_tool(
        "ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-vn", "-af", "ebur128", "-f", "null", "-"
    ).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", stderr.split("Summary:")[-1])[0])


def rms_db(path: Path, *, start_sec: float, duration_sec: float, audio_filter: str = "anull") -> float:
    """RMS level (dBFS) of the first audio stream over a window, after ``audio_filter`` (e.g. a low-pass)."""
    stderr = run_tool(
        "ffmpeg",
        "-hide_banner",
        "-nostats",
        "-ss",
        f"{start_sec:.3f}",
        "-t",
        f"{duration_sec:.3f}",
        "-i",
        str(path),
        "-vn",
        "-af",
        f"{audio_filter},astats=measure_perchannel=none:measure_overall=RMS_level",
        "-f",
        "null",
        "-",
    ).stderr
    value = re.findall(r"RMS level dB:\s*(-?[\d.]+|-inf)", stderr)[-1]
    return float(value)


def frames_at(video: Path, folder: Path, *, start_sec: float, count: int) -> list[Image.Image]:
    """``count`` consecutive decoded frames from ``start_sec``, as grayscale images."""
    folder.mkdir(parents=True, exist_ok=True)
    run_tool(
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-ss",
        f"{start_sec:.4f}",
        "-i",
        str(video),
        "-frames:v",
        str(count),
        str(folder / "f%03d.png"),
    )
    images = []
    for index in range(1, count + 1):
        with Image.open(folder / f"f{index:03d}.png") as frame:
            images.append(frame.convert("L"))
    return images


def frames_each_second(video: Path, folder: Path) -> list[Image.Image]:
    """One decoded frame a second of ``video``, in RGB."""
    folder.mkdir(parents=True, exist_ok=True)
    run_tool("ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", "fps=1", str(folder / "s%03d.png"))
    return [Image.open(path).convert("RGB") for path in sorted(folder.glob("s*.png"))]


def mean_abs_diff(first: Image.Image, second: Image.Image) -> float:
    return float(ImageStat.Stat(ImageChops.difference(first, second)).mean[0])


def decode_errors(video: Path) -> str:
    """Whatever FFmpeg complains about while decoding every frame (empty for a clean file)."""
    return run_tool("ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-").stderr.strip()
