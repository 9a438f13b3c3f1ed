"""User uploads (ranking clips, music, pictures for scenes and brand logos, brand fonts): which files are accepted,
what they are, and their content-addressed keys.

An upload is stored once under ``uploads/{sha256}.{ext}`` in the media bucket (DESIGN §5), so the same file
sent twice lands on the same key. The extension follows the probed container; the file's own name only picks
between names of the same container (``.mov`` or ``.mp4``, ``.mkv`` or ``.webm``).
"""

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field

from reelflow.contracts._base import Contract
from reelflow.runtime.failures import MediaInvalidError
from reelflow.runtime.media_probe import MediaInfo, StreamInfo

UPLOAD_PREFIX = "uploads/"
UPLOAD_FIELD = "file"


class Container(StrEnum):
    """ffprobe's demuxer families the gateway accepts, named as in its ``format_name`` list."""

    MOV = "mov"  # ffprobe reports "mov,mp4,m4a,3gp,3g2,mj2" for all of them
    MATROSKA = "matroska"  # "matroska,webm"
    MP3 = "mp3"
    WAV = "wav"
    OGG = "ogg"
    PNG = "png_pipe"
    JPEG = "jpeg_pipe"
    WEBP = "webp_pipe"


# Still pictures: ffprobe sees one frame (and makes up a frame rate), no duration.
IMAGE_CONTAINERS = frozenset({Container.PNG, Container.JPEG, Container.WEBP})
# The largest picture accepted, either side: a scene visual or a logo needs no more, and decoding stays cheap.
MAX_IMAGE_SIDE = 8192


@dataclass(frozen=True)
class UploadFormat:
    extension: str
    container: Container
    subtype: str  # of the Content-Type, after "video/" or "audio/"
    audio_only: bool = False


# The allowlist: an upload's key, content type and local file names only ever use these extensions.
UPLOAD_FORMATS: dict[str, UploadFormat] = {
    f.extension: f
    for f in (
        UploadFormat("mp4", Container.MOV, "mp4"),
        UploadFormat("mov", Container.MOV, "quicktime"),
        UploadFormat("m4a", Container.MOV, "mp4", audio_only=True),
        UploadFormat("mkv", Container.MATROSKA, "x-matroska"),
        UploadFormat("webm", Container.MATROSKA, "webm"),
        UploadFormat("mp3", Container.MP3, "mpeg", audio_only=True),
        UploadFormat("wav", Container.WAV, "wav", audio_only=True),
        UploadFormat("ogg", Container.OGG, "ogg"),
        UploadFormat("png", Container.PNG, "png"),
        UploadFormat("jpg", Container.JPEG, "jpeg"),
        UploadFormat("webp", Container.WEBP, "webp"),
    )
}
ACCEPTED_EXTENSIONS = (*UPLOAD_FORMATS, "ttf", "otf")
# The name of a container when the file's own name does not say which of its names it is: (video, audio only).
DEFAULT_EXTENSION: dict[Container, tuple[str, str]] = {
    Container.MOV: ("mp4", "m4a"),
    Container.MATROSKA: ("mkv", "mkv"),
    Container.MP3: ("mp3", "mp3"),
    Container.WAV: ("wav", "wav"),
    Container.OGG: ("ogg", "ogg"),
    Container.PNG: ("png", "png"),
    Container.JPEG: ("jpg", "jpg"),
    Container.WEBP: ("webp", "webp"),
}
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class MediaKind(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"
    FONT = "font"


# Fonts are told by their first four bytes (ffprobe does not read them): TrueType, OpenType (CFF), old Apple.
FONT_SIGNATURES = {b"\x00\x01\x00\x00": "ttf", b"true": "ttf", b"OTTO": "otf"}
FONT_CONTENT_TYPES = {"ttf": "font/ttf", "otf": "font/otf"}
FONT_HEADER_BYTES = 12
FONT_TABLE_RECORD_BYTES = 16
MAX_FONT_TABLES = 128


class UploadedMedia(Contract):
    """What ``POST /api/uploads`` answers: the key to use in a job and what the file holds."""

    media_key: str = Field(
        description="Use it as `clips[].media_key` or `music.media_key` of a ranking job, `music.media_key` of a "
        "lesson, or (a picture) as a scene's `visual` or `brand.logo`."
    )
    sha256: str
    size_bytes: int = Field(ge=1)
    kind: Literal["video", "audio", "image", "font"] = Field(
        description="`video` for a clip, `audio` for a music track, `image` (PNG, JPEG, WebP) for a scene's "
        "picture or a brand logo, `font` (TrueType, OpenType) for a brand's slides."
    )
    content_type: str
    duration_sec: float | None = Field(default=None, gt=0, description="None for a picture.")
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    has_audio: bool
    created: bool = Field(description="False when the same file had been uploaded before (nothing was stored).")


@dataclass(frozen=True)
class CheckedMedia:
    """A probed upload that is accepted: what it is and how it is named."""

    kind: MediaKind
    extension: str
    duration_sec: float | None
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool

    @property
    def content_type(self) -> str:
        if self.kind is MediaKind.FONT:
            return FONT_CONTENT_TYPES[self.extension]
        return f"{self.kind.value}/{UPLOAD_FORMATS[self.extension].subtype}"


def checked_font(head: bytes, *, filename: str, size_bytes: int) -> CheckedMedia | None:
    """A font upload, told by its first bytes (``head``: at least the first 12); None for anything else (which
    ffprobe then looks at). Its table directory must fit the file; compose loads it with FreeType before use."""
    extension = FONT_SIGNATURES.get(head[:4])
    if extension is None:
        return None
    tables = int.from_bytes(head[4:6], "big") if len(head) >= 6 else 0
    if not 1 <= tables <= MAX_FONT_TABLES or size_bytes < FONT_HEADER_BYTES + FONT_TABLE_RECORD_BYTES * tables:
        raise not_accepted(filename, "it starts like a font, but its table directory is damaged")
    return CheckedMedia(
        kind=MediaKind.FONT,
        extension=extension,
        duration_sec=None,
        width=None,
        height=None,
        fps=None,
        has_audio=False,
    )


def upload_key(sha256: str, extension: str) -> str:
    """``uploads/{sha256}.{ext}``; only a lowercase hex digest and an allowlisted extension make a key."""
    if not _SHA256_HEX.match(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    if extension not in UPLOAD_FORMATS and extension not in FONT_CONTENT_TYPES:
        raise ValueError(f"extension {extension!r} is not one of {', '.join(ACCEPTED_EXTENSIONS)}")
    return f"{UPLOAD_PREFIX}{sha256}.{extension}"


def stated_extension(filename: str) -> str | None:
    """The allowlisted extension the file's own name ends with (case-insensitive), or None."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower().lstrip(".")
    return suffix if suffix in UPLOAD_FORMATS else None


def container_of(format_name: str) -> Container | None:
    """The accepted container ffprobe found (its ``format_name`` is a comma-separated demuxer list), or None."""
    names = set(format_name.split(","))
    return next((container for container in Container if container.value in names), None)


def frame_rate(stream: StreamInfo) -> float | None:
    """``"30000/1001"`` → 29.97; None when ffprobe has no rate (a cover picture has ``"0/0"``)."""
    numerator, _, denominator = (stream.avg_frame_rate or "").partition("/")
    try:
        rate = float(numerator) / float(denominator or "1")
    except (ValueError, ZeroDivisionError):
        return None
    return round(rate, 3) if math.isfinite(rate) and rate > 0 else None


def moving_picture(info: MediaInfo) -> StreamInfo | None:
    """The first video stream that moves; an MP3's or M4A's cover art is a video stream without a frame rate."""
    return next(
        (s for s in info.streams if s.codec_type == "video" and s.width and s.height and frame_rate(s) is not None),
        None,
    )


def not_accepted(filename: str, problem: str) -> MediaInvalidError:
    """422 MEDIA_INVALID naming the file and what is wrong with it."""
    return MediaInvalidError(
        f"{filename!r} cannot be used as a clip, music, picture or font: {problem}",
        details={"field": UPLOAD_FIELD, "filename": filename, "problem": problem},
    )


def extension_for(container: Container, *, audio_only: bool, filename: str) -> str:
    """The key's extension: the file's own when it names this container (and fits its content), else the default."""
    stated = stated_extension(filename)
    if stated is not None:
        named = UPLOAD_FORMATS[stated]
        if named.container == container and (audio_only or not named.audio_only):
            return stated
    video_default, audio_default = DEFAULT_EXTENSION[container]
    return audio_default if audio_only else video_default


def check_media(info: MediaInfo, *, filename: str) -> CheckedMedia:
    """Accept a probed upload as a clip (it has moving video) or music (it has audio) that lasts a while, or as a
    picture (PNG, JPEG or WebP)."""
    container = container_of(info.format_name)
    if container is None:
        found = info.format_name or "unknown"
        raise not_accepted(filename, f"its format is {found}; upload one of {', '.join(ACCEPTED_EXTENSIONS)}")
    if container in IMAGE_CONTAINERS:
        return _checked_picture(info, container, filename)
    picture = moving_picture(info)
    has_audio = info.first("audio") is not None
    if picture is None and not has_audio:
        raise not_accepted(filename, "it has neither a video stream (for a clip) nor an audio stream (for music)")
    if not math.isfinite(info.duration_sec) or info.duration_sec <= 0:
        raise not_accepted(filename, "it lasts 0 s (a still image, or an empty recording?)")
    return CheckedMedia(
        kind=MediaKind.VIDEO if picture else MediaKind.AUDIO,
        extension=extension_for(container, audio_only=picture is None, filename=filename),
        duration_sec=round(info.duration_sec, 3),
        width=picture.display_width if picture else None,
        height=picture.display_height if picture else None,
        fps=frame_rate(picture) if picture else None,
        has_audio=has_audio,
    )


def _checked_picture(info: MediaInfo, container: Container, filename: str) -> CheckedMedia:
    picture = info.first("video")
    if picture is None or not picture.width or not picture.height:
        raise not_accepted(filename, "it holds no picture ffprobe can read")
    if max(picture.width, picture.height) > MAX_IMAGE_SIDE:
        raise not_accepted(
            filename,
            f"it is {picture.width}x{picture.height}; pictures may be at most {MAX_IMAGE_SIDE} pixels on a side",
        )
    return CheckedMedia(
        kind=MediaKind.IMAGE,
        extension=extension_for(container, audio_only=False, filename=filename),
        duration_sec=None,
        width=picture.width,
        height=picture.height,
        fps=None,
        has_audio=False,
    )


def uploaded_media(checked: CheckedMedia, *, sha256: str, size_bytes: int, created: bool) -> UploadedMedia:
    return UploadedMedia(
        media_key=upload_key(sha256, checked.extension),
        sha256=sha256,
        size_bytes=size_bytes,
        kind=checked.kind.value,
        content_type=checked.content_type,
        duration_sec=checked.duration_sec,
        width=checked.width,
        height=checked.height,
        fps=checked.fps,
        has_audio=checked.has_audio,
        created=created,
    )
