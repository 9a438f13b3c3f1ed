"""AWS Polly through boto3's ``synthesize_speech``: 16 kHz PCM wrapped in a WAV, the neural engine where the voice
has it (Korean: Seoyeon), SSML prosody for the voice's rate (and its pitch, on the standard engine).

boto3 is synchronous: each call runs in a worker thread, bounded by botocore's own connect and read timeouts and by
the scene's timeout. botocore's retries are off; a throttle, a 5xx or a lost connection is a retryable
:class:`TtsError` and the bus redelivers.
"""

import asyncio
from html import escape
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import botocore.exceptions

from reelflow.contracts import Voice, VoiceProvider
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import StepTimeoutError, TtsError
from reelflow.runtime.provider_voices import KnownVoice, default_voice, known_voices, regional_language
from reelflow.tts.speech_providers import bounded, retryable_status, write_pcm_wav

POLLY_PCM_SAMPLE_RATE = 16_000
_THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
_BAD_CREDENTIALS = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "ExpiredTokenException"}
)
FIX_CREDENTIALS = "set REELFLOW_POLLY_ACCESS_KEY_ID and REELFLOW_POLLY_SECRET_ACCESS_KEY (or the machine's AWS role)"


def polly_request(text: str, voice: Voice, language: str, *, engine: str = "") -> dict[str, Any]:
    """The ``synthesize_speech`` arguments for one scene.

    No voice named: the listed voice for the language (Seoyeon for Korean). The engine: ``engine`` when set, else
    the voice's best listed one (neural before standard), else standard, which every Polly voice has.
    """
    named = voice.voice.strip() if voice.voice and voice.voice.strip() else None
    listed = {known.name.lower(): known for known in known_voices("polly")}
    known = listed.get(named.lower()) if named else default_voice("polly", language)
    if named is None and known is None:
        raise TtsError(
            f"Polly has no listed voice for language {language!r}; name one in voice.voice (GET /api/voices)",
            retryable=False,
            details={"field": "voice.voice", "language": language},
        )
    voice_id = known.name if known is not None else str(named)
    request: dict[str, Any] = {
        "VoiceId": voice_id,
        "OutputFormat": "pcm",
        "SampleRate": str(POLLY_PCM_SAMPLE_RATE),
        "Engine": engine or (known.engines[0] if known is not None and known.engines else "standard"),
    }
    if known is None:
        request["LanguageCode"] = regional_language(language)
    elif known.speaks(language):
        request["LanguageCode"] = known.language
    prosody = []
    if voice.rate != 1.0:
        prosody.append(f'rate="{round(voice.rate * 100)}%"')
    # Polly's neural (and newer) engines refuse to change pitch; only the standard engine takes it.
    if voice.pitch != 0 and request["Engine"] == "standard":
        change = round((2 ** (voice.pitch / 12) - 1) * 100)
        prosody.append(f'pitch="{change:+d}%"')
    if prosody:
        spoken = escape(text, quote=False)
        request.update(Text=f"<speak><prosody {' '.join(prosody)}>{spoken}</prosody></speak>", TextType="ssml")
    else:
        request.update(Text=text, TextType="text")
    return request


class PollySpeech:
    provider: VoiceProvider = "polly"

    def __init__(
        self,
        *,
        region: str,
        access_key_id: str = "",
        secret_access_key: str = "",
        endpoint_url: str = "",
        engine: str = "",
        timeout_sec: float,
    ) -> None:
        self.engine = engine
        session = boto3.session.Session(
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region,
        )
        config = botocore.config.Config(
            connect_timeout=min(timeout_sec, 10.0),
            read_timeout=timeout_sec,
            retries={"total_max_attempts": 1},
        )
        self._client: Any = session.client("polly", endpoint_url=endpoint_url or None, config=config)

    def _speak(self, request: dict[str, Any]) -> bytes:
        response = self._client.synthesize_speech(**request)
        with response["AudioStream"] as stream:
            audio: bytes = stream.read()
        return audio

    async def synthesize(
        self, text: str, voice: Voice, language: str, out_wav: Path, *, timeout_sec: float, cancel: CancelToken | None
    ) -> None:
        request = polly_request(text, voice, language, engine=self.engine)
        details = {"provider": "polly", "voice": request["VoiceId"], "engine": request["Engine"], "language": language}
        try:
            pcm = await bounded(
                asyncio.to_thread(self._speak, request), what="AWS Polly", timeout_sec=timeout_sec, cancel=cancel
            )
        except (botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectTimeoutError) as exc:
            raise StepTimeoutError(f"AWS Polly did not answer in time ({exc})", details=details) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise TtsError(
                f"AWS Polly has no credentials: {FIX_CREDENTIALS}", retryable=False, details=details
            ) from exc
        except botocore.exceptions.ClientError as exc:
            raise _client_error(exc, details) from exc
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionError) as exc:
            raise TtsError(
                f"AWS Polly cannot be reached ({exc}); check REELFLOW_POLLY_REGION and REELFLOW_POLLY_ENDPOINT_URL, "
                "the job is retried",
                retryable=True,
                details=details,
            ) from exc
        write_pcm_wav(pcm, out_wav, sample_rate=POLLY_PCM_SAMPLE_RATE)

    def voices(self, language: str | None = None) -> list[KnownVoice]:
        return known_voices("polly", language)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._client.close)


def _client_error(exc: botocore.exceptions.ClientError, details: dict[str, Any]) -> TtsError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", "")) or str(exc)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    details = {**details, "status": status, "code": code}
    if code in _THROTTLED or retryable_status(status):
        return TtsError(
            f"AWS Polly is unavailable for now ({status} {code}: {message}); the job is retried",
            retryable=True,
            details=details,
        )
    if code in _BAD_CREDENTIALS or status in (401, 403):
        return TtsError(
            f"AWS Polly refused the credentials ({status} {code}: {message}): {FIX_CREDENTIALS}",
            retryable=False,
            details=details,
        )
    return TtsError(
        f"AWS Polly refused voice.voice {details['voice']!r} with engine {details['engine']!r} ({status} {code}: "
        f"{message}); use a Polly voice for the script's language (GET /api/voices), or set REELFLOW_POLLY_ENGINE",
        retryable=False,
        details=details,
    )
