"""The HTTP response that streams an open :class:`BlobStream`, and closes it however the answer ends."""

from collections.abc import AsyncIterator, Mapping

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from reelflow.runtime.blobs import BlobStream


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield


class StreamedBlobResponse(StreamingResponse):
    """Sends ``stream`` chunk by chunk (None: headers only, for a HEAD or an empty file).

    The stream is closed when the body is sent, when the client goes away mid-download (Starlette cancels the
    send) and when the store stalls, so no S3 connection outlives its request.
    """

    def __init__(self, stream: BlobStream | None, *, status_code: int, headers: Mapping[str, str]) -> None:
        super().__init__(stream.chunks() if stream else _nothing(), status_code=status_code, headers=headers)
        self._stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self._stream is not None:
                await self._stream.close()
