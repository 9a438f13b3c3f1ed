"""Google Cloud Text-to-Speech through ``google-cloud-texttospeech`` over its REST transport: LINEAR16 (a WAV) at
24 kHz, ``ko-KR`` Neural2/WaveNet voices, the voice's rate as ``speakingRate`` and its pitch (semitones) as ``pitch``.

It authenticates with an API key (``REELFLOW_GOOGLE_TTS_API_KEY``) or a service account's JSON file
(``REELFLOW_GOOGLE_TTS_CREDENTIALS_FILE``). The client is synchronous: each call runs in a worker thread with the
scene's timeout and no client-side retry; 429 and 5xx are retryable :class:`TtsError`, the bus redelivers.
"""

import asyncio
from pathlib import Path
from typing import Any

import requests
from google.api_core import exceptions as google_errors
from google.cloud import texttospeech
from google.oauth2 import service_account

from reelflow.contracts import Voice, VoiceProvider
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import StepTimeoutError, TtsError
from reelflow.runtime.provider_voices import KnownVoice, default_voice, known_voices, regional_language
from reelflow.tts.speech_providers import bounded, retryable_status

GOOGLE_SAMPLE_RATE = 24_000
FIX_CREDENTIALS = "set REELFLOW_GOOGLE_TTS_API_KEY or REELFLOW_GOOGLE_TTS_CREDENTIALS_FILE"


def google_request(text: str, voice: Voice, language: str) -> texttospeech.SynthesizeSpeechRequest:
    """The ``text:synthesize`` request for one scene: the named voice (its language from its name, ``ko-KR-…``),
    else the listed voice for the script's language, else Google's choice for that language."""
    named = voice.voice.strip() if voice.voice and voice.voice.strip() else None
    if named is None:
        known = default_voice("google", language)
        named = known.name if known is not None else None
    language_code = "-".join(named.split("-")[:2]) if named and named.count("-") >= 2 else regional_language(language)
    return texttospeech.SynthesizeSpeechRequest(
        input=texttospeech.SynthesisInput(text=text),
        voice=texttospeech.VoiceSelectionParams(language_code=language_code, name=named or ""),
        audio_config=texttospeech.AudioConfig(
            audio_encoding=texttospeech.AudioEncoding.LINEAR16,
            sample_rate_hertz=GOOGLE_SAMPLE_RATE,
            speaking_rate=voice.rate,
            pitch=voice.pitch,
        ),
    )


class GoogleSpeech:
    provider: VoiceProvider = "google"

    def __init__(self, *, api_key: str = "", credentials_file: str = "", endpoint: str, timeout_sec: float) -> None:
        options: dict[str, Any] = {"api_endpoint": endpoint}
        credentials = None
        if api_key:
            options["api_key"] = api_key
        elif credentials_file:
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                credentials_file, scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
        self.timeout_sec = timeout_sec
        self._client = texttospeech.TextToSpeechClient(
            transport="rest", client_options=options, credentials=credentials
        )

    def _speak(self, request: texttospeech.SynthesizeSpeechRequest, timeout_sec: float) -> bytes:
        response = self._client.synthesize_speech(request=request, timeout=timeout_sec, retry=None)
        return bytes(response.audio_content)

    async def synthesize(
        self, text: str, voice: Voice, language: str, out_wav: Path, *, timeout_sec: float, cancel: CancelToken | None
    ) -> None:
        request = google_request(text, voice, language)
        details = {"provider": "google", "voice": request.voice.name, "language": request.voice.language_code}
        timeout = min(timeout_sec, self.timeout_sec)
        try:
            audio = await bounded(
                asyncio.to_thread(self._speak, request, timeout),
                what="Google Text-to-Speech",
                timeout_sec=timeout_sec,
                cancel=cancel,
            )
        except (google_errors.DeadlineExceeded, requests.Timeout) as exc:
            raise StepTimeoutError(
                f"Google Text-to-Speech did not answer within {timeout:g}s", details=details
            ) from exc
        except google_errors.GoogleAPICallError as exc:
            raise _call_error(exc, details) from exc
        except (requests.ConnectionError, google_errors.RetryError) as exc:
            raise TtsError(
                f"Google Text-to-Speech cannot be reached ({exc}); check REELFLOW_GOOGLE_TTS_ENDPOINT, the job is "
                "retried",
                retryable=True,
                details=details,
            ) from exc
        if not audio:
            raise TtsError("Google Text-to-Speech answered with no audio", retryable=True, details=details)
        await asyncio.to_thread(out_wav.write_bytes, audio)  # LINEAR16 comes with its WAV header

    def voices(self, language: str | None = None) -> list[KnownVoice]:
        return known_voices("google", language)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._client.transport.close)


def _call_error(exc: google_errors.GoogleAPICallError, details: dict[str, Any]) -> TtsError:
    status = int(exc.code or 0)
    details = {**details, "status": status}
    if retryable_status(status):
        return TtsError(
            f"Google Text-to-Speech is unavailable for now ({status}: {exc.message}); the job is retried",
            retryable=True,
            details=details,
        )
    if status in (401, 403):
        return TtsError(
            f"Google Text-to-Speech refused the credentials ({status}: {exc.message}): {FIX_CREDENTIALS}",
            retryable=False,
            details=details,
        )
    return TtsError(
        f"Google Text-to-Speech refused voice.voice {details['voice']!r} for language {details['language']!r} "
        f"({status}: {exc.message}); use a Google voice such as ko-KR-Neural2-A (GET /api/voices)",
        retryable=False,
        details=details,
    )
