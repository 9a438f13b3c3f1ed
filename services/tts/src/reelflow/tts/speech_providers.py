"""The speech provider interface: who turns a scene's spoken text into a WAV file, chosen per job by
``Voice.provider`` among the providers this process has enabled (``REELFLOW_VOICE_PROVIDERS``).

Every provider writes a WAV at whatever rate it speaks; narration then brings it to the one format compose
mixes (48 kHz mono s16 with a trailing pause). A provider's outside call is bounded by the scene's timeout and
stops when the job is canceled; its failures are :class:`TtsError` (retryable for 429, 5xx and lost
connections, for good for what a setting or a field must fix) or a retryable :class:`StepTimeoutError`.
"""

import asyncio
import wave
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

from reelflow.contracts import Voice, VoiceProvider
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import JobCanceledError, StepTimeoutError, TtsError
from reelflow.runtime.provider_voices import KnownVoice

T = TypeVar("T")


class SpeechProvider(Protocol):
    provider: VoiceProvider

    async def synthesize(
        self, text: str, voice: Voice, language: str, out_wav: Path, *, timeout_sec: float, cancel: CancelToken | None
    ) -> None:
        """Speak ``text`` (already in its spoken form) into the WAV file ``out_wav``."""

    def voices(self, language: str | None = None) -> list[KnownVoice]:
        """The voices this provider is known to have, those for ``language`` when one is given."""

    async def aclose(self) -> None:
        """Release the provider's client."""


class SpeechProviders:
    """The process's enabled providers by name; asking for another one is a non-retryable :class:`TtsError`."""

    def __init__(self, providers: Mapping[VoiceProvider, SpeechProvider]) -> None:
        self._providers = dict(providers)

    @property
    def enabled(self) -> list[VoiceProvider]:
        return list(self._providers)

    def provider_for(self, voice: Voice) -> SpeechProvider:
        provider = self._providers.get(voice.provider)
        if provider is None:
            raise TtsError(
                f"voice.provider {voice.provider!r} is not enabled on this tts service (enabled: "
                f"{', '.join(self._providers) or 'none'}); add it to REELFLOW_VOICE_PROVIDERS with its settings "
                "(see the README's settings table), or ask for another provider",
                retryable=False,
                details={"field": "voice.provider", "provider": voice.provider},
            )
        return provider

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()


async def bounded(call: Awaitable[T], *, what: str, timeout_sec: float, cancel: CancelToken | None) -> T:
    """Await ``call`` for at most ``timeout_sec`` (a retryable :class:`StepTimeoutError` after), stopping it when
    the job is canceled (:class:`JobCanceledError`)."""
    work = asyncio.ensure_future(call)
    if cancel is not None and cancel.is_canceled:
        work.cancel()
        raise JobCanceledError(f"{what} was not started because the job was canceled")
    waiters: set[asyncio.Future[object]] = {work}  # type: ignore[arg-type]
    canceled = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    if canceled is not None:
        waiters.add(canceled)  # type: ignore[arg-type]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout_sec, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if canceled is not None:
            canceled.cancel()
    if work in done:
        return work.result()
    work.cancel()
    if canceled is not None and canceled in done:
        raise JobCanceledError(f"{what} was stopped because the job was canceled")
    raise StepTimeoutError(f"{what} did not answer within {timeout_sec:g}s", details={"timeout_sec": timeout_sec})


def write_pcm_wav(pcm: bytes, out_wav: Path, *, sample_rate: int) -> None:
    """Wrap raw 16-bit little-endian mono PCM (what OpenAI's ``pcm`` and Polly's ``pcm`` are) in a WAV header."""
    if len(pcm) < 2:
        raise TtsError("the speech provider answered with no audio", retryable=True)
    with wave.open(str(out_wav), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm[: len(pcm) - len(pcm) % 2])


def retryable_status(status: int) -> bool:
    """429 and 5xx may pass on a later try (the bus redelivers); any other 4xx needs a person to fix something."""
    return status == 429 or status >= 500
