"""The voices a render request may ask for on this install, by provider and language (``GET /api/voices``):
espeak-ng's from this machine's own listing, and each enabled cloud provider's known voices.

The cloud lists are written down in :mod:`reelflow.runtime.provider_voices`, not fetched from the providers: a
provider can have more, and any name it accepts works in ``voice.voice``.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from pydantic import Field

from reelflow.contracts import VOICE_PROVIDERS, VoiceProvider
from reelflow.contracts._base import Contract
from reelflow.runtime.failures import TtsError
from reelflow.runtime.provider_voices import ANY_LANGUAGE, known_voices, language_matches
from reelflow.runtime.voice_catalogue import VoiceCatalogue, espeak_catalogue

log = structlog.get_logger("reelflow.voice_directory")


class ListedVoice(Contract):
    provider: VoiceProvider
    voice: str = Field(description="What to put in the render request's voice.voice.")
    language: str = Field(description="A BCP 47 tag (ko-KR, en-gb), or * for a voice that reads any language.")
    name: str = Field(description="A name to show people.")
    gender: str = ""
    engines: list[str] = Field(default_factory=list, description="AWS Polly's engines for the voice, best first.")


class VoiceListing(Contract):
    providers: list[VoiceProvider] = Field(description="The providers this install has enabled, espeak first.")
    voices: list[ListedVoice]
    espeak_listed: bool = Field(
        default=True, description="False when espeak-ng could not list its voices just now (they are left out)."
    )


@dataclass(frozen=True)
class VoiceDirectory:
    enabled: tuple[VoiceProvider, ...]
    espeak: Callable[[], Awaitable[VoiceCatalogue]] = espeak_catalogue

    @property
    def providers(self) -> list[VoiceProvider]:
        return [name for name in VOICE_PROVIDERS if name == "espeak" or name in self.enabled]

    async def listing(self, *, language: str | None = None, provider: VoiceProvider | None = None) -> VoiceListing:
        """The enabled providers' voices, only ``provider``'s and only those reading ``language`` when given."""
        wanted = [name for name in self.providers if provider is None or name == provider]
        voices: list[ListedVoice] = []
        espeak_listed = True
        if "espeak" in wanted:
            try:
                catalogue = await self.espeak()
            except TtsError as exc:
                log.warning("espeak-ng voices not listed", error=exc.message)
                espeak_listed = False
            else:
                voices += [
                    ListedVoice(provider="espeak", voice=v.voice, language=v.language, name=v.name, gender=v.gender)
                    for v in catalogue.listed
                    if language is None or language_matches(v.language, language)
                ]
        for name in wanted:
            voices += [
                ListedVoice(
                    provider=name,
                    voice=known.name,
                    language=known.language,
                    name=known.name if known.language == ANY_LANGUAGE else f"{known.name} ({known.language})",
                    gender=known.gender,
                    engines=list(known.engines),
                )
                for known in known_voices(name, language)
            ]
        return VoiceListing(providers=self.providers, voices=voices, espeak_listed=espeak_listed)
