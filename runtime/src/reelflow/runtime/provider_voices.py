"""The voices each cloud speech provider is known to have, and the one tts picks for a language.

These lists are written down here, not fetched: they are what ``GET /api/voices`` shows and what tts speaks with
when a job names no voice. A provider's own listing can hold more; any name it accepts can be given in
``voice.voice``. espeak-ng's voices come from the machine instead (:mod:`reelflow.runtime.voice_catalogue`).
"""

from dataclasses import dataclass

from reelflow.contracts import VoiceProvider

ANY_LANGUAGE = "*"  # an OpenAI voice speaks whatever language it is given


@dataclass(frozen=True)
class KnownVoice:
    provider: VoiceProvider
    name: str
    language: str  # a BCP 47 tag such as ko-KR, or ANY_LANGUAGE
    gender: str = ""
    engines: tuple[str, ...] = ()  # Polly's engines for the voice, the best first; Google's tier is in its name

    def speaks(self, language: str) -> bool:
        return self.language == ANY_LANGUAGE or language_matches(self.language, language)


def language_matches(voice_language: str, wanted: str) -> bool:
    """Whether a voice of ``voice_language`` (``ko-KR``, ``en-gb-x-rp``) reads ``wanted`` (``ko``, ``en-GB``): the
    same primary subtag, and the same region too when both name one."""
    mine = voice_language.lower().replace("_", "-").split("-")
    theirs = wanted.lower().replace("_", "-").split("-")
    if mine[0] != theirs[0]:
        return False
    return len(mine) < 2 or len(theirs) < 2 or mine[1] == theirs[1]


_OPENAI = tuple(
    KnownVoice("openai", name, ANY_LANGUAGE)
    for name in ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")
)
_POLLY = (
    KnownVoice("polly", "Seoyeon", "ko-KR", "female", ("neural", "standard")),
    KnownVoice("polly", "Joanna", "en-US", "female", ("neural", "standard")),
    KnownVoice("polly", "Matthew", "en-US", "male", ("neural", "standard")),
    KnownVoice("polly", "Ruth", "en-US", "female", ("neural",)),
    KnownVoice("polly", "Amy", "en-GB", "female", ("neural", "standard")),
    KnownVoice("polly", "Brian", "en-GB", "male", ("neural", "standard")),
    KnownVoice("polly", "Takumi", "ja-JP", "male", ("neural", "standard")),
    KnownVoice("polly", "Kazuha", "ja-JP", "female", ("neural",)),
    KnownVoice("polly", "Mizuki", "ja-JP", "female", ("standard",)),
)
_GOOGLE = (
    KnownVoice("google", "ko-KR-Neural2-A", "ko-KR", "female"),
    KnownVoice("google", "ko-KR-Neural2-B", "ko-KR", "female"),
    KnownVoice("google", "ko-KR-Neural2-C", "ko-KR", "male"),
    KnownVoice("google", "ko-KR-Wavenet-A", "ko-KR", "female"),
    KnownVoice("google", "ko-KR-Wavenet-B", "ko-KR", "female"),
    KnownVoice("google", "ko-KR-Wavenet-C", "ko-KR", "male"),
    KnownVoice("google", "ko-KR-Wavenet-D", "ko-KR", "male"),
    KnownVoice("google", "en-US-Neural2-F", "en-US", "female"),
    KnownVoice("google", "en-US-Neural2-D", "en-US", "male"),
    KnownVoice("google", "en-US-Wavenet-F", "en-US", "female"),
    KnownVoice("google", "en-GB-Neural2-A", "en-GB", "female"),
    KnownVoice("google", "en-GB-Neural2-B", "en-GB", "male"),
    KnownVoice("google", "ja-JP-Neural2-B", "ja-JP", "female"),
    KnownVoice("google", "ja-JP-Neural2-C", "ja-JP", "male"),
)
KNOWN_VOICES: dict[VoiceProvider, tuple[KnownVoice, ...]] = {"openai": _OPENAI, "polly": _POLLY, "google": _GOOGLE}
# A language's region when the script names none: ko → ko-KR, en → en-US.
DEFAULT_REGIONS = {"ko": "KR", "en": "US", "ja": "JP", "zh": "CN", "es": "ES", "fr": "FR", "de": "DE", "pt": "BR"}


def known_voices(provider: VoiceProvider, language: str | None = None) -> list[KnownVoice]:
    """The provider's listed voices, only those that read ``language`` when one is given."""
    voices = KNOWN_VOICES.get(provider, ())
    return [voice for voice in voices if language is None or voice.speaks(language)]


def regional_language(language: str) -> str:
    """``ko`` → ``ko-KR``, ``en-gb`` → ``en-GB``: the form the cloud providers want."""
    primary, _, region = language.strip().replace("_", "-").partition("-")
    region = region or DEFAULT_REGIONS.get(primary.lower(), "")
    return f"{primary.lower()}-{region.upper()}" if region else primary.lower()


def default_voice(provider: VoiceProvider, language: str) -> KnownVoice | None:
    """The first listed voice for ``language`` (its region, else its default region, else any region)."""
    candidates = known_voices(provider, regional_language(language)) or known_voices(provider, language)
    return candidates[0] if candidates else None
