"""Tiny synthetic media for the ranking tests: solid-colour clips with a tone, and broken files."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

SUBPROCESS_TIMEOUT = 60


@dataclass(frozen=True)
class ClipRecipe:
    """A solid-colour clip; ``tone_hz`` adds a sine soundtrack, None leaves the file without an audio stream."""

    colour: str
    size: str
    fps: int
    seconds: float
    tone_hz: int | None = 440


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True, timeout=SUBPROCESS_TIMEOUT)


def make_clip(recipe: ClipRecipe, path: Path) -> Path:
    inputs = ["-f", "lavfi", "-i", f"color=c={recipe.colour}:s={recipe.size}:r={recipe.fps}:d={recipe.seconds}"]
    audio: list[str] = ["-an"]
    if recipe.tone_hz is not None:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency={recipe.tone_hz}:duration={recipe.seconds}"]
        audio = ["-c:a", "aac", "-ar", "44100"]
    _ffmpeg(*inputs, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *audio, str(path))
    return path


def make_edge_marked_clip(path: Path) -> Path:
    """2 s of red at 640x360 with a white strip down its left tenth: shows whether a 9:16 short kept the edge."""
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:s=640x360:r=25:d=2,drawbox=x=0:y=0:w=64:h=360:c=white:t=fill",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def make_turned_clip(source: Path, path: Path, *, degrees: int) -> Path:
    """``source`` with a display rotation, as a phone held upright records it: stored sideways, shown turned."""
    _ffmpeg("-i", str(source), "-c", "copy", "-metadata:s:v:0", f"rotate={degrees}", str(path))
    return path


def make_late_sound_clip(path: Path, *, work: Path) -> Path:
    """3 s that turn white at 1.0 s, with a tone from 1.0 s, whose audio stream starts 0.5 s after its video.

    Picture and sound agree only if the stream start offset is honoured: a sync check.
    """
    video, audio = work / "late-video.mp4", work / "late-audio.m4a"
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=black:s=320x180:r=25:d=3,drawbox=c=white:t=fill:enable='gte(t,1)'",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(video),
    )  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "aevalsrc='if(gte(t,0.5),sin(2*PI*440*t),0)':d=2.5:s=48000", str(audio))
    _ffmpeg(
        "-i", str(video), "-itsoffset", "0.5", "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c", "copy", str(path)
    )
    return path


def make_tone(path: Path, *, seconds: float, hz: int = 300) -> Path:
    """An audio-only file: music for the bed, or a "clip" with no video stream."""
    _ffmpeg("-f", "lavfi", "-i", f"sine=frequency={hz}:duration={seconds}", "-c:a", "aac", str(path))
    return path


def make_still(path: Path) -> Path:
    """A single PNG frame: it has a video stream but lasts no time at all."""
    _ffmpeg("-f", "lavfi", "-i", "color=c=white:s=64x64", "-frames:v", "1", "-f", "image2", "-c:v", "png", str(path))
    return path


def make_truncated(source: Path, path: Path) -> Path:
    """The first half of an MP4 whose index (moov) is written at the end, as an interrupted upload leaves it."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def probe_streams(path: Path) -> dict[str, object]:
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    data: dict[str, object] = json.loads(completed.stdout)
    return data


def frame_rgb(video: Path, at_sec: float) -> tuple[int, int, bytes]:
    """(width, height, RGB24 bytes) of the frame shown at ``at_sec``."""
    probe = probe_streams(video)
    streams = probe["streams"]
    assert isinstance(streams, list)
    picture = next(stream for stream in streams if stream["codec_type"] == "video")
    width, height = int(picture["width"]), int(picture["height"])
    completed = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-ss",
            f"{at_sec:.3f}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        check=True,
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert len(completed.stdout) == width * height * 3
    return width, height, completed.stdout


def pixel(frame: tuple[int, int, bytes], x: int, y: int) -> tuple[int, int, int]:
    width, _, data = frame
    offset = (y * width + x) * 3
    return data[offset], data[offset + 1], data[offset + 2]


def max_volume_db(media: Path, *, start_sec: float, seconds: float) -> float:
    """The loudest sample between ``start_sec`` and ``start_sec + seconds``, in dBFS (-91 for digital silence)."""
    completed = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "info",
            "-nostdin",
            "-ss",
            f"{start_sec:.3f}",
            "-t",
            f"{seconds:.3f}",
            "-i",
            str(media),
            "-vn",
            "-af",
            "volumedetect",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    line = next(line for line in completed.stderr.splitlines() if "max_volume:" in line)
    return float(line.split("max_volume:")[1].split("dB")[0])
