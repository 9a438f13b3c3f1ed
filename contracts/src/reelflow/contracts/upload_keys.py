"""The media keys POST /api/uploads hands out, by what they hold."""

import re

# The content's sha256 and an allowlisted extension. The gateway accepts only these from its callers; a spec
# published straight to the bus must at least name a key that stays in its bucket.
UPLOAD_KEY_PATTERN = r"^uploads/[0-9a-f]{64}\.(mp4|mov|m4a|mkv|webm|mp3|wav|ogg|png|jpg|webp|ttf|otf)$"
# The uploads that are still pictures: a scene's `visual` or a brand logo.
IMAGE_UPLOAD_KEY_PATTERN = r"^uploads/[0-9a-f]{64}\.(png|jpg|webp)$"
# The uploads that are videos: a scene's `visual` may be one (shown muted).
VIDEO_UPLOAD_KEY_PATTERN = r"^uploads/[0-9a-f]{64}\.(mp4|mov|mkv|webm)$"
# The uploads that are fonts: a brand's face for the slides.
FONT_UPLOAD_KEY_PATTERN = r"^uploads/[0-9a-f]{64}\.(ttf|otf)$"


def is_uploaded_picture(visual: str) -> bool:
    """Whether a scene's ``visual`` names an uploaded picture rather than a prompt."""
    return re.fullmatch(IMAGE_UPLOAD_KEY_PATTERN, visual.strip()) is not None


def is_uploaded_video(visual: str) -> bool:
    """Whether a scene's ``visual`` names an uploaded video rather than a prompt."""
    return re.fullmatch(VIDEO_UPLOAD_KEY_PATTERN, visual.strip()) is not None
