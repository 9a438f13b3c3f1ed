"""The video ids the API accepts: a video id becomes a path segment of its assets' S3 keys
(``videos/{video_id}/…``), so it is one safe segment, checked when it arrives rather than when storage fails."""

from typing import Annotated

from pydantic import Field

VIDEO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
VIDEO_ID_RULE = "1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
VideoId = Annotated[str, Field(pattern=VIDEO_ID_PATTERN, description=f"The video: {VIDEO_ID_RULE}.")]
