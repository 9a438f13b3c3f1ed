"""Pictures for scenes: an uploaded picture (or video) a scene's ``visual`` names, or for a prompt an image provider
behind a small interface, cached by prompt.

The provider is the OpenAI Images API (``images.generate``), or any server that speaks it, at the configured
``base_url`` and model (:mod:`openai_images`, kept apart so that composing alone never loads the OpenAI client).
Each image is kept in the media bucket under a key made from the model, the size and the prompt, so a second job
(or a retry) with the same prompt reuses it instead of paying for it again.

Failures carry ``VISUAL_FAILED``: a timeout, a dropped connection, 429 and 5xx are retryable (the bus redelivers
with backoff, and the client's own retries are off); any other refusal (a bad key, a prompt the provider rejects)
fails the job at once with the provider's message.
"""

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

import structlog
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from reelflow.compose.uploaded_inputs import fetch_upload
from reelflow.contracts import Scene
from reelflow.contracts.upload_keys import is_uploaded_picture, is_uploaded_video
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import MediaInvalidError

log = structlog.get_logger("reelflow.compose.scene_images")

VISUALS_PREFIX = "visuals/"
# The sizes every current OpenAI image model accepts for each shape (gpt-image-1; DALL·E 3 takes 1792 wide).
_SIZES = {"landscape": "1536x1024", "upright": "1024x1536", "square": "1024x1024"}
_DALL_E_3_SIZES = {"landscape": "1792x1024", "upright": "1024x1792", "square": "1024x1024"}


class ImageProvider(Protocol):
    """Makes one PNG (or JPEG) for a prompt at a provider size such as ``1536x1024``."""

    model: str

    async def generate(self, prompt: str, size: str) -> bytes: ...


def provider_size(frame: tuple[int, int], model: str) -> str:
    """The provider size closest in shape to the video frame."""
    width, height = frame
    shape = (
        "square" if abs(width - height) <= min(width, height) * 0.1 else ("landscape" if width > height else "upright")
    )
    return (_DALL_E_3_SIZES if model == "dall-e-3" else _SIZES)[shape]


def cache_key(model: str, size: str, prompt: str) -> str:
    """Where an image is kept in the media bucket: a hash of the model, the size and the prompt."""
    digest = hashlib.sha256(f"{model}\n{size}\n{prompt.strip()}".encode()).hexdigest()
    return f"{VISUALS_PREFIX}{digest}.png"


def upright(picture: Path, out: Path, what: str) -> Path:
    """``picture`` turned as its EXIF orientation says (a phone photo taken upright is often stored sideways with a
    tag saying so, which neither the slide drawing nor FFmpeg reads), written to ``out`` as a PNG that keeps its
    transparency; ``picture`` itself when it needs no turning. Raises :class:`MediaInvalidError` (non-retryable)
    naming ``what`` when it is not a readable picture."""
    try:
        with Image.open(picture) as opened:
            if opened.getexif().get(ExifTags.Base.Orientation, 1) in (0, 1):
                return picture
            turned = ImageOps.exif_transpose(opened)
            turned.save(out, format="PNG")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise MediaInvalidError(f"{what} is not a readable picture ({exc})", retryable=False) from exc
    return out


async def scene_images(
    scenes: Sequence[Scene],
    frame: tuple[int, int],
    *,
    provider: ImageProvider | None,
    blobs: BlobStore,
    bucket: str,
    folder: Path,
) -> Mapping[str, Path]:
    """The picture (or video) of every scene that has a ``visual``, by scene id: an uploaded one from the media
    bucket, or for a prompt a picture from the cache, else from the provider.

    Without a provider the prompts are left out (logged per scene, naming the settings to set).
    """
    wanted = [scene for scene in scenes if scene.visual and scene.visual.strip()]
    if not wanted:
        return {}
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    images: dict[str, Path] = {}
    prompted: list[Scene] = []
    for scene in wanted:
        visual = (scene.visual or "").strip()
        if is_uploaded_picture(visual) or is_uploaded_video(visual):
            path = folder / f"{scene.scene_id}{PurePosixPath(visual).suffix}"
            what = f"scene {scene.scene_id}'s visual"
            fetched = await fetch_upload(blobs, bucket, visual, path, what=what)
            if is_uploaded_picture(visual):
                fetched = await asyncio.to_thread(upright, fetched, folder / f"{scene.scene_id}-upright.png", what)
            images[scene.scene_id] = fetched
        else:
            prompted.append(scene)
    if provider is None:
        for scene in prompted:
            log.warning(
                "scene visual left out: no image provider is configured "
                "(set REELFLOW_IMAGES_BASE_URL and REELFLOW_IMAGES_MODEL)",
                scene_id=scene.scene_id,
            )
        return images
    size = provider_size(frame, provider.model)
    for scene in prompted:
        prompt = (scene.visual or "").strip()
        key = cache_key(provider.model, size, prompt)
        path = folder / f"{scene.scene_id}.png"
        if await blobs.stat(bucket, key) is not None:
            await blobs.get_file(bucket, key, path)
        else:
            await asyncio.to_thread(path.write_bytes, await provider.generate(prompt, size))
            await blobs.put_file(bucket, key, path, "image/png")
        images[scene.scene_id] = path
    return images
