"""Narration of one scene: its spoken text → a 48 kHz mono WAV with a trailing pause, and its exact duration;
espeak-ng (the offline default) or any other :class:`SpeechProvider` speaks, FFmpeg brings the result to one format."""

import contextlib
import time
import wave
from pathlib import Path

from reelflow.contracts import Voice, VoiceProvider
from reelflow.runtime.cancellation import CancelToken
from reelflow.runtime.failures import StepTimeoutError, TtsError
from reelflow.runtime.processes import run_process
from reelflow.runtime.provider_voices import KnownVoice
from reelflow.runtime.voice_catalogue import espeak_voice_for
from reelflow.tts.speech_providers import SpeechProvider

ESPEAK_BASE_WORDS_PER_MIN = 175
OUTPUT_SAMPLE_RATE = 48_000


ESPEAK_BASE_PITCH = 50  # espeak-ng's -p runs 0-99
ESPEAK_PITCH_PER_SEMITONE = 4  # about a semitone per 4 steps around the middle of that scale


def espeak_args(text: str, voice: str, rate: float, wav_path: Path, pitch: float = 0.0) -> list[str]:
    """The espeak-ng command that writes ``wav_path``.

    ``text`` is not in the list: it goes to espeak-ng on stdin (``--stdin``), so text starting with
    ``-`` cannot be read as an option and no length limit of the command line applies. It is taken
    in the signature so that callers keep text and command together; ``-b 1`` declares it UTF-8.
    """
    del text  # delivered on stdin by narrate_scene
    return [
        "espeak-ng",
        "-v",
        voice,
        "-s",
        str(round(ESPEAK_BASE_WORDS_PER_MIN * rate)),
        *espeak_pitch_args(pitch),
        "-b",
        "1",
        "-w",
        str(wav_path),
        "--stdin",
    ]


def espeak_pitch_args(pitch: float) -> list[str]:
    """``-p`` for a pitch in semitones (none at 0, so espeak-ng keeps the voice's own)."""
    if pitch == 0:
        return []
    return ["-p", str(max(0, min(99, round(ESPEAK_BASE_PITCH + pitch * ESPEAK_PITCH_PER_SEMITONE))))]


def normalize_audio_args(raw_wav: Path, out_wav: Path, trailing_silence_sec: float) -> list[str]:
    """The FFmpeg command that turns a provider's WAV (espeak-ng's 22 kHz, OpenAI's 24 kHz, Polly's 16 kHz …) into
    48 kHz mono s16 with a trailing pause."""
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        str(raw_wav),
        "-af",
        f"apad=pad_dur={trailing_silence_sec:.3f}",
        "-ar",
        str(OUTPUT_SAMPLE_RATE),
        "-ac",
        "1",
        "-c:a",
        "pcm_s16le",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        str(out_wav),
    ]


def wav_duration_sec(path: Path) -> float:
    """Exact duration from the WAV header (frames ÷ sample rate); an unreadable file raises :class:`TtsError`."""
    try:
        with wave.open(str(path), "rb") as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
    except (OSError, EOFError, wave.Error) as exc:
        raise TtsError(f"{path.name} is not a readable WAV file ({exc})") from exc
    return frames / rate if rate else 0.0


def has_audio(path: Path) -> bool:
    return path.is_file() and wav_duration_sec(path) > 0


class EspeakSpeech:
    """espeak-ng, the offline default: always enabled, its voices are this machine's (``espeak-ng --voices``)."""

    provider: VoiceProvider = "espeak"

    async def synthesize(
        self, text: str, voice: Voice, language: str, out_wav: Path, *, timeout_sec: float, cancel: CancelToken | None
    ) -> None:
        espeak_voice = espeak_voice_for(language, voice.voice)
        try:
            await run_process(
                espeak_args(text, espeak_voice, voice.rate, out_wav, voice.pitch),
                stdin=text.encode("utf-8"),
                timeout_sec=timeout_sec,
                cancel=cancel,
                error=TtsError,
            )
        except FileNotFoundError as exc:
            raise TtsError(
                "espeak-ng is not installed; install it with `apt-get install espeak-ng`", retryable=False
            ) from exc
        except TtsError as exc:
            raise TtsError(
                f"espeak-ng could not speak with voice {espeak_voice!r} for language {language!r} "
                f"(check the voice name with `espeak-ng --voices`): {exc.message}",
                retryable=False,
                details={**exc.details, "voice": espeak_voice, "language": language},
            ) from exc
        if not has_audio(out_wav):
            raise TtsError(
                f"espeak-ng produced no audio with voice {espeak_voice!r} for language {language!r}",
                retryable=False,
                details={"voice": espeak_voice, "language": language},
            )

    def voices(self, language: str | None = None) -> list[KnownVoice]:
        """None listed here: the gateway lists espeak-ng's from the machine's own catalogue."""
        return []

    async def aclose(self) -> None:
        return None


ESPEAK = EspeakSpeech()


async def narrate_scene(
    text: str,
    voice: Voice,
    language: str,
    out_wav: Path,
    *,
    provider: SpeechProvider = ESPEAK,
    cancel: CancelToken | None = None,
    timeout_sec: float = 60.0,
    trailing_silence_sec: float = 0.35,
) -> float:
    """Speak ``text`` into ``out_wav`` with ``provider`` (espeak-ng by default) and return the file's measured
    duration in seconds.

    ``timeout_sec`` bounds the provider and FFmpeg together. Failures are :class:`TtsError`: empty text,
    a missing binary, a setting to fix or an unknown voice are not retryable; a timeout is a retryable
    :class:`StepTimeoutError` and cancellation a :class:`JobCanceledError`.
    """
    if not text.strip():
        raise TtsError("scene narration is empty; give every scene some text to speak", retryable=False)
    deadline = time.monotonic() + timeout_sec
    raw_wav = out_wav.with_name(f".{out_wav.stem}.{provider.provider}.wav")
    try:
        await provider.synthesize(text, voice, language, raw_wav, timeout_sec=timeout_sec, cancel=cancel)
        if not has_audio(raw_wav):
            raise TtsError(
                f"{provider.provider} produced no audio for language {language!r}",
                details={"provider": provider.provider, "language": language},
            )
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StepTimeoutError(f"narration did not finish within {timeout_sec:g}s")
        try:
            await run_process(
                normalize_audio_args(raw_wav, out_wav, trailing_silence_sec),
                timeout_sec=remaining,
                cancel=cancel,
                error=TtsError,
            )
        except FileNotFoundError as exc:
            raise TtsError(
                "ffmpeg is not installed; install it with `apt-get install ffmpeg`", retryable=False
            ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            raw_wav.unlink()
    return wav_duration_sec(out_wav)
