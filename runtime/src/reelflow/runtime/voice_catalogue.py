"""Which voices espeak-ng can speak with: listed once per process from ``espeak-ng --voices``.

The gateway checks a render request's voice against it at submit time (a 422 naming the field), and tts maps a
language to its default voice with the same rule, so a voice accepted at submit is one tts can use.
"""

import asyncio
import difflib
import re
import time
from dataclasses import dataclass

import structlog

from reelflow.runtime.failures import ReelflowError, TtsError
from reelflow.runtime.processes import run_process

log = structlog.get_logger("reelflow.voice_catalogue")
LISTING_TIMEOUT_SEC = 10.0
# After espeak-ng could not list its voices, callers are told so at once for this long instead of waiting again.
FAILED_LISTING_KEPT_SEC = 60.0
# "(en 2)(en-gb 3)" in the "Other Languages" column: more language codes the voice answers to.
_OTHER_LANGUAGE = re.compile(r"\(([^\s()]+) \d+\)")
# espeak-ng has regional English voices; every other language is named by its primary subtag.
_ENGLISH_VOICES = {"en": "en-us", "en-us": "en-us", "en-gb": "en-gb", "en-uk": "en-gb"}


def espeak_voice_for(language: str, override: str | None = None) -> str:
    """``"ko"`` → ``"ko"``, ``"en"`` → ``"en-us"``, ``"en-GB"`` → ``"en-gb"``, others → their primary subtag.

    A non-blank ``override`` (the spec's ``voice.voice``) wins and is passed to espeak-ng as given.
    Other English regions fall back to American English.
    """
    if override is not None and override.strip():
        return override.strip()
    tag = language.strip().lower().replace("_", "-")
    family = tag.split("-", 1)[0]
    if family == "en":
        return _ENGLISH_VOICES.get(tag, "en-us")
    return family


def voice_names(listing: str) -> frozenset[str]:
    """Every name ``espeak-ng -v`` accepts from a ``--voices`` listing: language codes, voice names and voice files
    (lower-cased), or variant names from a ``--voices=variant`` listing."""
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) < 5:
            continue
        _priority, language, _age_gender, name, file = columns[:5]
        # The listing writes a voice name's spaces as underscores; espeak-ng itself wants the spaces.
        names.update({language.lower(), name.replace("_", " ").lower(), file.lower()})
        names.update(other.lower() for other in _OTHER_LANGUAGE.findall(" ".join(columns[5:])))
        if file.startswith("!v/"):
            names.add(file.removeprefix("!v/").lower())
    return frozenset(names)


@dataclass(frozen=True)
class EspeakVoice:
    """One line of ``espeak-ng --voices``: ``voice`` is what to put in ``voice.voice`` (its language code)."""

    voice: str
    language: str
    name: str
    gender: str


def listed_voices(listing: str) -> tuple[EspeakVoice, ...]:
    """The voices of a ``--voices`` listing, as :class:`EspeakVoice` (for ``GET /api/voices``)."""
    voices: list[EspeakVoice] = []
    genders = {"M": "male", "F": "female"}
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) < 5:
            continue
        _priority, language, age_gender, name = columns[:4]
        gender = genders.get(age_gender.rpartition("/")[2], "")
        voices.append(EspeakVoice(voice=language, language=language, name=name.replace("_", " "), gender=gender))
    return tuple(voices)


@dataclass(frozen=True)
class VoiceCatalogue:
    voices: frozenset[str]
    variants: frozenset[str]
    listed: tuple[EspeakVoice, ...] = ()

    def knows(self, voice: str) -> bool:
        """``"ko"``, ``"en-gb-x-rp"``, ``"Afrikaans"``, ``"gmw/af"`` or a voice with a variant: ``"en-us+f3"``."""
        base, _, variant = voice.strip().lower().partition("+")
        return base in self.voices and (not variant or variant in self.variants)

    def closest(self, voice: str, count: int = 5) -> list[str]:
        """The catalogue's nearest names to ``voice``, to suggest instead."""
        return difflib.get_close_matches(voice.strip().lower(), sorted(self.voices), n=count, cutoff=0.5)


_catalogue: VoiceCatalogue | None = None
_failed: tuple[float, TtsError] | None = None
_lock = asyncio.Lock()


async def _list_voices() -> VoiceCatalogue:
    try:
        voices = await run_process(["espeak-ng", "--voices"], timeout_sec=LISTING_TIMEOUT_SEC, error=TtsError)
        variants = await run_process(["espeak-ng", "--voices=variant"], timeout_sec=LISTING_TIMEOUT_SEC, error=TtsError)
    except OSError as exc:  # not installed, or not executable
        raise TtsError(
            f"espeak-ng cannot list its voices ({exc}); install it with `apt-get install espeak-ng`"
        ) from exc
    except ReelflowError as exc:  # a non-zero exit, or the timeout
        raise TtsError(f"espeak-ng could not list its voices: {exc.message}") from exc
    listing = voices.stdout.decode(errors="replace")
    return VoiceCatalogue(
        voices=voice_names(listing),
        variants=voice_names(variants.stdout.decode(errors="replace")),
        listed=listed_voices(listing),
    )


async def espeak_catalogue() -> VoiceCatalogue:
    """The catalogue of this machine's espeak-ng, read once; :class:`TtsError` when espeak-ng cannot list it
    (repeated at once for :data:`FAILED_LISTING_KEPT_SEC`, so callers never queue behind a broken espeak-ng)."""
    global _catalogue, _failed
    async with _lock:
        if _catalogue is not None:
            return _catalogue
        if _failed is not None and time.monotonic() - _failed[0] < FAILED_LISTING_KEPT_SEC:
            raise _failed[1]
        try:
            _catalogue = await _list_voices()
        except TtsError as exc:
            _failed = (time.monotonic(), exc)
            log.warning("espeak-ng voices could not be listed", error=exc.message)
            raise
        return _catalogue
