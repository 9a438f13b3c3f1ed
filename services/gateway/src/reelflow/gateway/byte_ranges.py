"""HTTP byte ranges (RFC 9110 §14): which part of a file a ``Range`` header asks for, or why no part can be served."""

import re
from dataclasses import dataclass

from reelflow.gateway.refusals import RangeNotSatisfiableError

RANGE_UNIT = "bytes"
# One range, "first-last", "first-" or "-suffix". Numbers longer than any file size are not ranges we can serve.
_ONE_RANGE = re.compile(r"(\d{0,18})-(\d{0,18})")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of a file, both included (as HTTP counts them)."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size_bytes: int) -> str:
        return f"{RANGE_UNIT} {self.start}-{self.end}/{size_bytes}"


def requested_range(header: str | None, size_bytes: int) -> ByteRange | None:
    """The one range ``header`` asks for within a file of ``size_bytes``; None means: send the whole file.

    A header that is absent, in another unit, malformed, or asks for several ranges is ignored, as RFC 9110 allows:
    the whole file is a valid answer to it. A range that starts at or past the end of the file, or asks for the last
    0 bytes, cannot be served at all: :class:`RangeNotSatisfiableError` (a 416 saying how long the file is).
    """
    if header is None:
        return None
    unit, equals, spec = header.partition("=")
    if not equals or unit.strip().lower() != RANGE_UNIT:
        return None
    match = _ONE_RANGE.fullmatch(spec.strip())
    if match is None or match.group() == "-":
        return None
    first, last = match.groups()
    if not first:  # "-n": the last n bytes, or the whole file when it is shorter
        suffix = int(last)
        if suffix == 0 or size_bytes == 0:
            raise RangeNotSatisfiableError(header, size_bytes)
        return ByteRange(max(size_bytes - suffix, 0), size_bytes - 1)
    start = int(first)
    if last and int(last) < start:  # "5-2" is not a range at all, so it is ignored rather than refused
        return None
    if start >= size_bytes:
        raise RangeNotSatisfiableError(header, size_bytes)
    return ByteRange(start, min(int(last), size_bytes - 1) if last else size_bytes - 1)


def range_still_applies(if_range: str | None, etag: str) -> bool:
    """``If-Range``: a client resuming a download asks for the rest only if the file is still the one it has.

    Only a matching strong ETag keeps the range; a date (we send no Last-Modified) or another ETag means the whole
    file is sent again.
    """
    return if_range is None or if_range.strip() == etag
