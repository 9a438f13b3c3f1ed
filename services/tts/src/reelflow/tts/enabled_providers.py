"""The speech providers a tts process has enabled, built from its settings once and closed when it stops."""

from typing import cast

from reelflow.contracts import VoiceProvider
from reelflow.runtime.service import ServiceRuntime
from reelflow.tts.google_speech import GoogleSpeech
from reelflow.tts.narration import ESPEAK
from reelflow.tts.openai_speech import OpenAISpeech
from reelflow.tts.polly_speech import PollySpeech
from reelflow.tts.settings import TtsSettings
from reelflow.tts.speech_providers import SpeechProvider, SpeechProviders

_RUNTIME_KEY = "speech_providers"


def build_providers(settings: TtsSettings) -> SpeechProviders:
    """espeak-ng always; each cloud provider named in ``REELFLOW_VOICE_PROVIDERS``, with its settings."""
    timeout = settings.speech_request_timeout_sec
    providers: dict[VoiceProvider, SpeechProvider] = {"espeak": ESPEAK}
    if "openai" in settings.voice_providers:
        providers["openai"] = OpenAISpeech(
            api_key=settings.openai_tts_api_key.get_secret_value(),
            base_url=settings.openai_tts_base_url or None,
            model=settings.openai_tts_model,
            default_voice=settings.openai_tts_voice,
            timeout_sec=timeout,
        )
    if "polly" in settings.voice_providers:
        providers["polly"] = PollySpeech(
            region=settings.polly_region,
            access_key_id=settings.polly_access_key_id,
            secret_access_key=settings.polly_secret_access_key.get_secret_value(),
            endpoint_url=settings.polly_endpoint_url,
            engine=settings.polly_engine,
            timeout_sec=timeout,
        )
    if "google" in settings.voice_providers:
        providers["google"] = GoogleSpeech(
            api_key=settings.google_tts_api_key.get_secret_value(),
            credentials_file=settings.google_tts_credentials_file,
            endpoint=settings.google_tts_endpoint,
            timeout_sec=timeout,
        )
    return SpeechProviders(providers)


async def process_providers(runtime: ServiceRuntime[TtsSettings]) -> SpeechProviders:
    """The process's providers, made on first use and kept in ``runtime.extras`` (made again, the old ones
    closed, when ``runtime.settings`` has been replaced since, as tests do)."""
    cached = runtime.extras.get(_RUNTIME_KEY)
    if isinstance(cached, tuple):
        settings, providers = cached
        if settings is runtime.settings:
            return cast(SpeechProviders, providers)
        await providers.aclose()
    providers = build_providers(runtime.settings)
    runtime.extras[_RUNTIME_KEY] = (runtime.settings, providers)
    return providers


async def close_providers(runtime: ServiceRuntime[TtsSettings]) -> None:
    """Close the process's providers' clients, if they were made."""
    cached = runtime.extras.pop(_RUNTIME_KEY, None)
    if isinstance(cached, tuple):
        await cached[1].aclose()
