"""How a job's asset goes out over HTTP: its media type and file name, whether a browser shows or saves it, its
ETag, whether the client's copy is still current (``If-None-Match``), and the part of it a ``Range`` asks for."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from reelflow.contracts import Asset, AssetKind
from reelflow.gateway.byte_ranges import RANGE_UNIT, ByteRange, range_still_applies, requested_range
from reelflow.gateway.refusals import NotFoundError
from reelflow.runtime.blobs import BlobStore, BlobStream

_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class AssetFormat:
    media_type: str
    extension: str
    shown_inline: bool  # a page embeds it (<video>, <img>, <track>); the others are files to save


FORMAT_BY_KIND: Mapping[AssetKind, AssetFormat] = {
    AssetKind.VIDEO: AssetFormat("video/mp4", "mp4", shown_inline=True),
    AssetKind.THUMBNAIL: AssetFormat("image/jpeg", "jpg", shown_inline=True),
    AssetKind.SUBTITLES_VTT: AssetFormat("text/vtt; charset=utf-8", "vtt", shown_inline=True),
    AssetKind.SUBTITLES_SRT: AssetFormat("application/x-subrip; charset=utf-8", "srt", shown_inline=False),
    AssetKind.CHAPTERS: AssetFormat("text/plain; charset=utf-8", "txt", shown_inline=False),
}


@dataclass(frozen=True)
class AssetRequest:
    """What a GET or HEAD of an asset asks for besides the asset: its request headers and ``?download``."""

    range_header: str | None = None
    if_range: str | None = None
    if_none_match: str | None = None
    download: bool = False


@dataclass(frozen=True)
class AssetDelivery:
    """What to answer for one request of an asset: 200 with the whole file, 206 with ``part`` of it, or 304 with
    nothing (the client's copy is current)."""

    status: int
    headers: dict[str, str]
    part: ByteRange | None  # None: the whole file, or nothing for a 304

    @property
    def length(self) -> int:
        """The bytes the answer carries."""
        return int(self.headers.get("Content-Length", "0"))


def etag_of(asset: Asset) -> str:
    """A strong ETag: the stored file's sha256, so it changes exactly when the bytes do (a retried render)."""
    return f'"{asset.sha256}"'


def file_name(job_id: str, kind: AssetKind) -> str:
    """``<job_id>.<ext>``, with anything a header or a file system could trip on replaced by ``_``."""
    return f"{_UNSAFE_IN_FILE_NAME.sub('_', job_id)}.{FORMAT_BY_KIND[kind].extension}"


def content_disposition(job_id: str, kind: AssetKind, *, download: bool) -> str:
    """``inline`` for what a page embeds (unless ``download`` is asked for), else ``attachment``; both name the
    file ``<job_id>.<ext>`` for a browser's "save as"."""
    shown = FORMAT_BY_KIND[kind].shown_inline and not download
    return f'{"inline" if shown else "attachment"}; filename="{file_name(job_id, kind)}"'


def is_current(if_none_match: str | None, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (compared weakly, as RFC 9110 says for it) or is ``*``."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def plan_delivery(asset: Asset, job_id: str, request: AssetRequest) -> AssetDelivery:
    """The status, headers and part for a GET or HEAD of ``asset``; a range past its end is refused (416)."""
    etag = etag_of(asset)
    # The API decides who may read a job's files: no shared cache keeps a copy for the next caller.
    validators = {"ETag": etag, "Cache-Control": "private"}
    if is_current(request.if_none_match, etag):
        return AssetDelivery(304, validators, None)
    size = asset.size_bytes
    part = requested_range(request.range_header, size) if range_still_applies(request.if_range, etag) else None
    headers = validators | {
        "Accept-Ranges": RANGE_UNIT,
        "Content-Type": FORMAT_BY_KIND[asset.kind].media_type,
        "Content-Length": str(part.length if part else size),
        "Content-Disposition": content_disposition(job_id, asset.kind, download=request.download),
    }
    if part is None:
        return AssetDelivery(200, headers, None)
    return AssetDelivery(206, headers | {"Content-Range": part.content_range(size)}, part)


def presigned_response_headers(job_id: str, kind: AssetKind, *, download: bool) -> dict[str, str]:
    """What S3 should answer a presigned download with in place of the stored headers (same as the gateway's)."""
    return {
        "response-content-type": FORMAT_BY_KIND[kind].media_type,
        "response-content-disposition": content_disposition(job_id, kind, download=download),
    }


async def open_delivery(
    blobs: BlobStore, asset: Asset, delivery: AssetDelivery, *, read_timeout_sec: float
) -> BlobStream | None:
    """The stored bytes ``delivery`` sends, open for streaming (None for an empty file); a file the job records but
    the store no longer holds is a 404 like an asset not made yet."""
    if delivery.length == 0:
        return None
    start = delivery.part.start if delivery.part else 0
    stream = await blobs.open_range(
        asset.bucket, asset.key, start=start, length=delivery.length, read_timeout_sec=read_timeout_sec
    )
    if stream is None:
        raise NotFoundError(
            f"the job's {asset.kind.value} is recorded but no longer stored", details={"kind": asset.kind.value}
        )
    return stream
