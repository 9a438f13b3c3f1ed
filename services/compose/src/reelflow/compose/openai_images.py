"""The OpenAI Images API as a scene's picture provider (:class:`scene_images.ImageProvider`).

Kept out of :mod:`scene_images`: the ``openai`` client costs a process about 27 MB and half a second to import, and
only a worker with an image provider configured needs it (:mod:`lesson_job` builds the provider).
"""

import base64
import binascii
from typing import Any

import openai

from reelflow.compose.settings import ComposeSettings
from reelflow.runtime.failures import VisualError


class OpenAIImages:
    """The OpenAI Images API through the ``openai`` client, with its own retries off (the bus retries)."""

    def __init__(self, settings: ComposeSettings) -> None:
        if not settings.images_base_url or not settings.images_model:
            raise ValueError("OpenAIImages needs REELFLOW_IMAGES_BASE_URL and REELFLOW_IMAGES_MODEL")
        key = settings.images_api_key.get_secret_value() if settings.images_api_key else "not-needed"
        self.model = settings.images_model
        self._client = openai.AsyncOpenAI(
            base_url=settings.images_base_url, api_key=key, timeout=settings.images_timeout_sec, max_retries=0
        )

    async def aclose(self) -> None:
        await self._client.close()

    async def generate(self, prompt: str, size: str) -> bytes:
        extra: dict[str, Any] = {"response_format": "b64_json"} if self.model.startswith("dall-e") else {}
        try:
            result = await self._client.images.generate(model=self.model, prompt=prompt, size=size, n=1, **extra)
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise VisualError(f"the image provider did not answer: {exc}", retryable=True) from exc
        except openai.APIStatusError as exc:
            retryable = exc.status_code == 429 or exc.status_code >= 500
            raise VisualError(
                f"the image provider refused the scene's visual ({exc.status_code}): {exc.message}",
                retryable=retryable,
                details={"status": exc.status_code},
            ) from exc
        encoded = result.data[0].b64_json if result.data else None
        if not encoded:
            raise VisualError("the image provider answered without an image (no b64_json)", retryable=False)
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise VisualError(f"the image provider's image is not base64: {exc}", retryable=False) from exc
