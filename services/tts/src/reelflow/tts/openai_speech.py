"""OpenAI TTS (``POST /v1/audio/speech``) through the ``openai`` client, or any server that speaks its protocol
(``REELFLOW_OPENAI_TTS_BASE_URL``).

It asks for ``pcm`` (24 kHz 16-bit mono, no header to get wrong when streamed) and wraps it in a WAV. The client
never retries on its own: a 429, a 5xx or a lost connection is a retryable :class:`TtsError` and the bus
redelivers the job with its backoff.
"""

from pathlib import Path

import openai

from reelflow.contracts import Voice, VoiceProvider
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import StepTimeoutError, TtsError
from reelflow.runtime.provider_voices import KnownVoice, known_voices
from reelflow.tts.speech_providers import bounded, retryable_status, write_pcm_wav

OPENAI_PCM_SAMPLE_RATE = 24_000
# tts-1 and tts-1-hd take no instructions; the newer models take them and may not honour ``speed`` alone.
_NO_INSTRUCTIONS = frozenset({"tts-1", "tts-1-hd"})


def pace_instructions(model: str, rate: float, pitch: float = 0.0) -> str | None:
    """For a model that takes instructions, the voice's rate (also sent as ``speed``) and pitch said in words."""
    if model in _NO_INSTRUCTIONS:
        return None
    asks = []
    if rate != 1.0:
        asks.append(f"Speak at {rate:g} times your normal speaking pace.")
    if pitch != 0:
        asks.append(f"Speak about {abs(pitch):g} semitones {'higher' if pitch > 0 else 'lower'} than your usual pitch.")
    return " ".join(asks) or None


class OpenAISpeech:
    provider: VoiceProvider = "openai"

    def __init__(self, *, api_key: str, base_url: str | None, model: str, default_voice: str, timeout_sec: float):
        self.model = model
        self.default_voice = default_voice
        self._client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout_sec, max_retries=0
        )

    async def synthesize(
        self, text: str, voice: Voice, language: str, out_wav: Path, *, timeout_sec: float, cancel: CancelToken | None
    ) -> None:
        name = voice.voice.strip() if voice.voice and voice.voice.strip() else self.default_voice
        details = {"provider": "openai", "voice": name, "model": self.model, "language": language}
        instructions = pace_instructions(self.model, voice.rate, voice.pitch)
        try:
            response = await bounded(
                self._client.audio.speech.create(
                    model=self.model,
                    voice=name,
                    input=text,
                    response_format="pcm",
                    speed=voice.rate,  # the API takes 0.25-4.0; Voice.rate is 0.5-2.0
                    instructions=instructions if instructions is not None else openai.omit,
                ),
                what="OpenAI TTS",
                timeout_sec=timeout_sec,
                cancel=cancel,
            )
            pcm = response.content
        except openai.APITimeoutError as exc:
            raise StepTimeoutError(f"OpenAI TTS did not answer within {timeout_sec:g}s", details=details) from exc
        except openai.AuthenticationError as exc:
            raise TtsError(
                f"OpenAI TTS refused the API key ({exc.status_code}): set a valid REELFLOW_OPENAI_TTS_API_KEY",
                retryable=False,
                details=details,
            ) from exc
        except openai.PermissionDeniedError as exc:
            raise TtsError(
                f"OpenAI TTS does not allow this key to use model {self.model!r} ({exc.status_code}): check "
                "REELFLOW_OPENAI_TTS_API_KEY and REELFLOW_OPENAI_TTS_MODEL",
                retryable=False,
                details=details,
            ) from exc
        except openai.APIStatusError as exc:
            if retryable_status(exc.status_code):
                raise TtsError(
                    f"OpenAI TTS is unavailable for now ({exc.status_code}: {exc.message}); the job is retried",
                    retryable=True,
                    details={**details, "status": exc.status_code},
                ) from exc
            raise TtsError(
                f"OpenAI TTS refused voice.voice {name!r} with REELFLOW_OPENAI_TTS_MODEL {self.model!r} "
                f"({exc.status_code}: {exc.message}); use one of its voices (GET /api/voices) and a TTS model",
                retryable=False,
                details={**details, "status": exc.status_code},
            ) from exc
        except openai.APIConnectionError as exc:
            raise TtsError(
                f"OpenAI TTS cannot be reached ({exc}); check REELFLOW_OPENAI_TTS_BASE_URL, the job is retried",
                retryable=True,
                details=details,
            ) from exc
        write_pcm_wav(pcm, out_wav, sample_rate=OPENAI_PCM_SAMPLE_RATE)

    def voices(self, language: str | None = None) -> list[KnownVoice]:
        return known_voices("openai", language)

    async def aclose(self) -> None:
        await self._client.close()
