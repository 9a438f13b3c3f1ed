"""What follows a video's upload: its custom thumbnail (``thumbnails.set``) and its captions (``captions.insert``).

Each is a small, single-request upload; the caller records each once done, so a redelivery skips it.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from googleapiclient.http import MediaFileUpload

from reelflow.uploader.youtube_calls import YouTubeCalls

if TYPE_CHECKING:
    from googleapiclient._apis.youtube.v3 import YouTubeResource

# The name viewers see beside the language in the player's subtitles menu.
CAPTION_TRACK_NAME = "Subtitles"


async def set_thumbnail(youtube: "YouTubeResource", video_id: str, thumbnail: Path, calls: YouTubeCalls) -> None:
    request = youtube.thumbnails().set(
        videoId=video_id, media_body=MediaFileUpload(str(thumbnail), mimetype="image/jpeg")
    )
    await calls.call("setting the video's thumbnail", request.execute)


async def insert_captions(
    youtube: "YouTubeResource", video_id: str, subtitles_srt: Path, language: str, calls: YouTubeCalls
) -> str:
    """Add the SRT as a published caption track in ``language``; returns the track's id."""
    request = youtube.captions().insert(
        part="snippet",
        body={"snippet": {"videoId": video_id, "language": language, "name": CAPTION_TRACK_NAME, "isDraft": False}},
        media_body=MediaFileUpload(str(subtitles_srt), mimetype="application/octet-stream"),
    )
    caption = await calls.call("adding the captions", request.execute)
    return str(caption["id"])
