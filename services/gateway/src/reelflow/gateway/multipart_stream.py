"""Receiving one file of a multipart/form-data body as it streams in: size-limited, hashed, written to disk.

Starlette's own form parsing spools the whole body before a route runs, so an oversized upload would already
have filled the disk when the limit is checked. Here the body is parsed chunk by chunk and refused as soon as
the file passes the limit.
"""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from reelflow.gateway.refusals import GatewayError, InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

# Room for the boundaries and part headers around the file when judging a request by its Content-Length.
MULTIPART_ENVELOPE_BYTES = 64 * 1024
MAX_UPLOAD_SETTING = "REELFLOW_UPLOAD_MAX_BYTES"


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    filename: str
    size_bytes: int
    sha256: str


def size_text(size_bytes: int) -> str:
    """``524288000`` → ``"500 MiB"``; sizes below 1 KiB stay in bytes."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.4g} {unit}"
    return f"{size_bytes} bytes"


def too_large(max_bytes: int, *, field: str, filename: str | None = None) -> PayloadTooLargeError:
    """413: the upload is over the limit, naming the limit and the setting that raises it."""
    what = f"{filename!r}" if filename else f"the file in field {field!r}"
    return PayloadTooLargeError(
        f"{what} is larger than the upload limit of {size_text(max_bytes)} ({max_bytes} bytes); send a shorter or "
        f"re-encoded file, or raise the limit with {MAX_UPLOAD_SETTING}",
        details={"field": field, "max_bytes": max_bytes, "setting": MAX_UPLOAD_SETTING},
    )


def form_problem(message: str, *, field: str) -> GatewayError:
    """422 naming the form field whose content is wrong."""
    return InvalidRequestError(message, details={"field": field, "problems": [{"field": field, "problem": message}]})


def multipart_boundary(headers: Mapping[str, str], *, field: str) -> bytes:
    """The body's multipart boundary; a body that is not multipart/form-data is refused with 415."""
    content_type = headers.get("content-type", "")
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaTypeError(
            f"send the file as multipart/form-data in the field {field!r} (e.g. curl -F {field}=@clip.mp4), "
            f"not as {content_type or 'a body without Content-Type'}",
            details={"field": field},
        )
    return boundary


def refuse_declared_oversize(headers: Mapping[str, str], max_bytes: int, *, field: str) -> None:
    """Refuse a body whose Content-Length already says it is too large, before any of it is read."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MULTIPART_ENVELOPE_BYTES:
        raise too_large(max_bytes, field=field)


class _FilePartSink:
    """Parser callbacks that keep the data of the part named ``field`` and drop every other part's data."""

    def __init__(self, field: str) -> None:
        self._field = field
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._in_file = False
        self.filename: str | None = None
        self.file_parts = 0
        self.other_files: list[str] = []
        self.pending: list[bytes] = []
        self.finished = False

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._in_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        filename = options.get(b"filename")
        if name == self._field and filename is not None:
            self.file_parts += 1
            self._in_file = self.file_parts == 1
            if self._in_file:
                self.filename = filename.decode("utf-8", errors="replace")
        elif filename is not None:
            self.other_files.append(name)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.pending.append(data[start:end])

    def _part_end(self) -> None:
        self._in_file = False

    def _end(self) -> None:
        self.finished = True


def _write_chunk(handle: BinaryIO, digest: "hashlib._Hash", chunk: bytes) -> None:
    digest.update(chunk)
    handle.write(chunk)


async def receive_file(
    headers: Mapping[str, str], body: AsyncIterator[bytes], target: Path, *, field: str, max_bytes: int
) -> ReceivedFile:
    """Write the file sent in form field ``field`` to ``target`` while hashing it; refuse it past ``max_bytes``.

    Other form fields are read past and dropped. Refusals are gateway errors (413 over the limit, 415 not
    multipart, 422 a body without the file, with two files, or cut off).
    """
    refuse_declared_oversize(headers, max_bytes, field=field)
    sink = _FilePartSink(field)
    parser = MultipartParser(multipart_boundary(headers, field=field), sink.callbacks())
    digest = hashlib.sha256()
    size = 0
    body_size = 0
    with target.open("wb") as handle:
        async for chunk in body:
            # Other fields and extra files are not kept, but the body as a whole is bounded too.
            body_size += len(chunk)
            if body_size > max_bytes + MULTIPART_ENVELOPE_BYTES:
                raise too_large(max_bytes, field=field, filename=sink.filename)
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise form_problem(f"the multipart body could not be read: {exc}", field=field) from exc
            if not sink.pending:
                continue
            data = b"".join(sink.pending)
            sink.pending.clear()
            size += len(data)
            if size > max_bytes:
                raise too_large(max_bytes, field=field, filename=sink.filename)
            await asyncio.to_thread(_write_chunk, handle, digest, data)
    if sink.file_parts > 1:
        raise form_problem(
            f"send one file per request; the form has {sink.file_parts} files in field {field!r}", field=field
        )
    if sink.filename is None:
        elsewhere = f" (files came in: {', '.join(map(repr, sink.other_files))})" if sink.other_files else ""
        raise form_problem(
            f"the form has no file in the field {field!r}{elsewhere}; send it as -F {field}=@clip.mp4", field=field
        )
    if not sink.finished:
        raise form_problem(
            f"the upload of {sink.filename!r} ended before the multipart body did (was it cut off?); send it again",
            field=field,
        )
    if size == 0:
        raise form_problem(f"{sink.filename!r} is empty", field=field)
    return ReceivedFile(path=target, filename=sink.filename, size_bytes=size, sha256=digest.hexdigest())
