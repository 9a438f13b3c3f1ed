"""The video ids the API accepts: a video id becomes a path segment of its assets' S3 keys
(``videos/{video_id}/…``), so it is one safe segment, checked when it arrives rather than when storage fails."""

import re
from typing import Annotated

from pydantic import Field

from reelflow.gateway.refusals import InvalidRequestError

VIDEO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
VIDEO_ID_RULE = "1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
VideoId = Annotated[str, Field(pattern=VIDEO_ID_PATTERN, description=f"The video: {VIDEO_ID_RULE}.")]


def require_video_id(video_id: str) -> str:
    """``video_id`` when it is one the API accepts; where no request model checks it (a WebSocket path), this does."""
    if re.fullmatch(VIDEO_ID_PATTERN, video_id) is None:
        raise InvalidRequestError.of([{"field": "video_id", "problem": f"must be {VIDEO_ID_RULE}"}])
    return video_id
