"""ffprobe, parsed into a small typed summary: streams, size, duration."""

import json
from dataclasses import dataclass
from pathlib import Path

from reelflow.runtime.failures import MediaInvalidError
from reelflow.runtime.processes import run_process

PROBE_TIMEOUT_SEC = 30.0


@dataclass(frozen=True)
class StreamInfo:
    codec_type: str
    codec_name: str
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    sample_rate: int | None = None
    profile: str | None = None
    avg_frame_rate: str | None = None
    rotation: int = 0  # degrees a player turns the picture (a phone held upright); FFmpeg's decoder does the same

    @property
    def display_width(self) -> int | None:
        """The picture's width as it is shown and as FFmpeg decodes it: a quarter turn swaps width and height."""
        return self.height if self.rotation % 180 else self.width

    @property
    def display_height(self) -> int | None:
        return self.width if self.rotation % 180 else self.height


@dataclass(frozen=True)
class MediaInfo:
    duration_sec: float
    format_name: str
    streams: tuple[StreamInfo, ...]

    def first(self, codec_type: str) -> StreamInfo | None:
        return next((stream for stream in self.streams if stream.codec_type == codec_type), None)


def parse_probe_output(raw: str, *, source: str) -> MediaInfo:
    """Turn ``ffprobe -print_format json -show_format -show_streams`` output into :class:`MediaInfo`."""
    try:
        data = json.loads(raw)
        fmt = data["format"]
        streams = tuple(
            StreamInfo(
                codec_type=str(stream.get("codec_type", "")),
                codec_name=str(stream.get("codec_name", "")),
                width=stream.get("width"),
                height=stream.get("height"),
                pix_fmt=stream.get("pix_fmt"),
                sample_rate=int(stream["sample_rate"]) if stream.get("sample_rate") else None,
                profile=stream.get("profile"),
                avg_frame_rate=stream.get("avg_frame_rate"),
                rotation=_rotation_of(stream),
            )
            for stream in data.get("streams", [])
        )
        duration = float(fmt.get("duration") or 0.0)
    except (ValueError, KeyError, TypeError) as exc:
        raise MediaInvalidError(f"{source}: ffprobe output could not be read ({exc})") from exc
    return MediaInfo(duration_sec=duration, format_name=str(fmt.get("format_name", "")), streams=streams)


def _rotation_of(stream: dict[str, object]) -> int:
    """The stream's display rotation in degrees (0, 90, 180 or 270): the display matrix FFmpeg reports in
    ``side_data_list``, or the older ``rotate`` tag."""
    for side_data in stream.get("side_data_list") or []:  # type: ignore[attr-defined]
        if isinstance(side_data, dict) and "rotation" in side_data:
            return round(float(side_data["rotation"])) % 360
    tags = stream.get("tags")
    if isinstance(tags, dict) and tags.get("rotate"):
        return round(float(tags["rotate"])) % 360
    return 0


async def probe_media(path: Path, *, timeout_sec: float = PROBE_TIMEOUT_SEC) -> MediaInfo:
    """Probe a local file; unreadable or corrupt media raises :class:`MediaInvalidError` naming the file."""
    result = await run_process(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        timeout_sec=timeout_sec,
        error=MediaInvalidError,
    )
    return parse_probe_output(result.stdout.decode(errors="replace"), source=path.name)
