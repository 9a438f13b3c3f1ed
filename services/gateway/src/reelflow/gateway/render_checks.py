"""Everything about a render request that can be checked before its job exists, beyond what its body's types say:
the voice (its provider enabled here; an espeak-ng voice one it has), the publish target (YouTube must be
configured), the callback_url (a public address, and a secret to sign with) and the uploads it names.

A request that passes renders; one that does not is refused with a 422 naming each field, instead of failing
minutes later in tts or compose. The same checks run for ``POST …/render-jobs``, ``POST /api/ranking-jobs`` and
the ``render_defaults`` of an ``auto_render`` script request (a ranking short's voice only when it narrates its
labels).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from reelflow.contracts import MusicTrack, PublishTarget, RankingSpec, Voice
from reelflow.gateway.job_media import (
    NamedUpload,
    require_lesson_music,
    require_lesson_uploads,
    require_ranking_media,
)
from reelflow.gateway.refusals import InvalidRequestError
from reelflow.gateway.render_specs import CALLBACK_NOT_SIGNED, PUBLISH_NOT_CONFIGURED
from reelflow.gateway.webhook_targets import target_problems
from reelflow.runtime.blobs import BlobStore
from reelflow.runtime.failures import TtsError
from reelflow.runtime.voice_catalogue import VoiceCatalogue, espeak_catalogue, espeak_voice_for

log = structlog.get_logger("reelflow.render_checks")
Problem = dict[str, str]


def _field(within: str, name: str) -> str:
    return f"{within}.{name}" if within else name


def publish_problems(publish: PublishTarget | None, *, available: bool, within: str = "") -> list[Problem]:
    if publish is None or available:
        return []
    return [{"field": _field(within, "publish"), "problem": PUBLISH_NOT_CONFIGURED}]


def provider_problems(voice: Voice | None, enabled: frozenset[str], *, within: str = "") -> list[Problem]:
    """A cloud voice provider must be enabled on this install (espeak-ng always is)."""
    if voice is None or voice.provider == "espeak" or voice.provider in enabled:
        return []
    problem = (
        f"this install has not enabled the {voice.provider!r} voice provider (enabled: "
        f"{', '.join(['espeak', *sorted(enabled - {'espeak'})])}); add it to REELFLOW_VOICE_PROVIDERS for the gateway "
        f"and tts, with its settings ({PROVIDER_SETTINGS.get(voice.provider, 'see the README')}) for tts, or use "
        "another provider (GET /api/voices)"
    )
    return [{"field": _field(within, "voice.provider"), "problem": problem}]


PROVIDER_SETTINGS = {
    "openai": "REELFLOW_OPENAI_TTS_API_KEY",
    "polly": "REELFLOW_POLLY_REGION and REELFLOW_POLLY_ACCESS_KEY_ID/_SECRET_ACCESS_KEY or an AWS role",
    "google": "REELFLOW_GOOGLE_TTS_API_KEY or REELFLOW_GOOGLE_TTS_CREDENTIALS_FILE",
}


def voice_problems(catalogue: VoiceCatalogue, voice: Voice | None, language: str, *, within: str = "") -> list[Problem]:
    """The voice espeak-ng would be asked for (the named one, else the language's) must be one it has."""
    named = voice.voice if voice is not None and voice.voice and voice.voice.strip() else None
    wanted = espeak_voice_for(language, named)
    if catalogue.knows(wanted):
        return []
    suggestions = ", ".join(catalogue.closest(wanted)) or "see `espeak-ng --voices`"
    if named is None:
        problem = (
            f"espeak-ng has no voice for the script's language {language!r}; name one in voice.voice "
            f"(e.g. {suggestions})"
        )
    else:
        problem = f"espeak-ng has no voice {named!r}; use one it has (e.g. {suggestions})"
    return [{"field": _field(within, "voice.voice"), "problem": problem}]


@dataclass(frozen=True)
class CallbackChecks:
    """Whether a job's callback_url can be called: a secret signs it, and its target is allowed (no SSRF)."""

    signed: bool = False
    allow_private_targets: bool = False

    def problems(self, callback_url: str | None, *, within: str = "") -> list[Problem]:
        if callback_url is None:
            return []
        name = _field(within, "callback_url")
        if not self.signed:
            return [{"field": name, "problem": CALLBACK_NOT_SIGNED}]
        return target_problems(name, callback_url, allow_private=self.allow_private_targets)


@dataclass(frozen=True)
class RenderChecks:
    blobs: BlobStore
    media_bucket: str
    publishing_available: bool = False
    voice_catalogue: Callable[[], Awaitable[VoiceCatalogue]] = espeak_catalogue
    callbacks: CallbackChecks = CallbackChecks()
    voice_providers: frozenset[str] = frozenset({"espeak"})

    async def _voice_problems(self, voice: Voice | None, language: str, within: str) -> list[Problem]:
        if voice is not None and voice.provider != "espeak":
            # A cloud voice's name is checked by its provider in tts, whose refusal names voice.voice.
            return provider_problems(voice, self.voice_providers, within=within)
        try:
            catalogue = await self.voice_catalogue()
        except TtsError as exc:
            # Cannot tell here; tts refuses an unknown voice itself, naming it (TTS_FAILED).
            log.warning("voice not checked: espeak-ng cannot list its voices", error=exc.message)
            return []
        return voice_problems(catalogue, voice, language, within=within)

    async def lesson(
        self,
        *,
        voice: Voice | None,
        language: str,
        music: MusicTrack | None,
        publish: PublishTarget | None,
        callback_url: str | None = None,
        uploads: list[NamedUpload] | None = None,
        within: str = "",
    ) -> None:
        """Refuse a lesson render whose publish target, callback, voice, music or uploads (pictures and fonts, see
        ``job_media.lesson_uploads``) cannot work (in that order)."""
        problems = (
            publish_problems(publish, available=self.publishing_available, within=within)
            + self.callbacks.problems(callback_url, within=within)
            + await self._voice_problems(voice, language, within)
        )
        if problems:
            raise InvalidRequestError.of(problems)
        await require_lesson_music(self.blobs, self.media_bucket, music, within=within)
        await require_lesson_uploads(self.blobs, self.media_bucket, uploads or [], within=within)

    async def ranking(self, spec: RankingSpec) -> None:
        """Refuse a ranking short that asks to be published or called back where it cannot, whose voice (when its
        labels are narrated) cannot speak, or whose clips and music are not uploads."""
        problems = publish_problems(spec.publish, available=self.publishing_available)
        problems += self.callbacks.problems(spec.callback_url)
        if spec.voice is not None:
            problems += await self._voice_problems(spec.voice, spec.language, "")
        if problems:
            raise InvalidRequestError.of(problems)
        await require_ranking_media(self.blobs, self.media_bucket, spec)
