"""Where final assets live in the media bucket (DESIGN §5)."""

from reelflow.contracts import AssetKind

ADHOC_SCRIPT_ID = "adhoc"

ASSET_FILES: dict[AssetKind, tuple[str, str]] = {
    AssetKind.VIDEO: ("video.mp4", "video/mp4"),
    AssetKind.SUBTITLES_SRT: ("subtitles.srt", "application/x-subrip"),
    AssetKind.SUBTITLES_VTT: ("subtitles.vtt", "text/vtt"),
    AssetKind.THUMBNAIL: ("thumb.jpg", "image/jpeg"),
    AssetKind.CHAPTERS: ("chapters.txt", "text/plain; charset=utf-8"),
}


def job_media_prefix(video_id: str, script_id: str | None, job_id: str) -> str:
    return f"videos/{video_id}/{script_id or ADHOC_SCRIPT_ID}/{job_id}/"


def asset_key(video_id: str, script_id: str | None, job_id: str, kind: AssetKind) -> str:
    return job_media_prefix(video_id, script_id, job_id) + ASSET_FILES[kind][0]
