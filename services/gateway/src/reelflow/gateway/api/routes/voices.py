"""The voices a render request may ask for (``GET /api/voices``), and a short sample of an espeak-ng voice."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from starlette.requests import HTTPConnection

from reelflow.contracts import VoiceProvider
from reelflow.gateway.api.deps import Reader, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.voice_directory import VoiceDirectory, VoiceListing
from reelflow.gateway.voice_samples import VoiceSamples

router = APIRouter(prefix="/api", tags=["voices"])


def voice_directory(state: StateDep) -> VoiceDirectory:
    return VoiceDirectory(tuple(state.settings.voice_providers))


@router.get(
    "/voices",
    operation_id="listVoices",
    response_model=VoiceListing,
    summary="List the voices by provider and language: espeak-ng's, and the enabled cloud providers' known ones",
    responses=error_responses({422: "The language or the provider is not valid."}),
)
async def list_voices(
    caller: Reader,
    directory: Annotated[VoiceDirectory, Depends(voice_directory)],
    language: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$",
            description="Only voices reading this language (ko, en-GB).",
        ),
    ] = None,
    provider: VoiceProvider | None = None,
) -> VoiceListing:
    return await directory.listing(language=language, provider=provider)


def voice_samples(connection: HTTPConnection) -> VoiceSamples:
    """The process's samples, made on first use and kept on the app, so a voice is rendered once."""
    state = connection.app.state
    samples = getattr(state, "voice_samples", None)
    if not isinstance(samples, VoiceSamples):
        samples = state.voice_samples = VoiceSamples()
    return samples


@router.get(
    "/voices/sample",
    operation_id="sampleVoice",
    summary="Hear an espeak-ng voice: a WAV of it saying a short sentence in its language",
    response_class=Response,
    responses={
        200: {"content": {"audio/wav": {}}, "description": "A WAV file of a few seconds."},
        **error_responses({422: "espeak-ng has no such voice.", 503: "espeak-ng could not speak the sample just now."}),
    },
)
async def sample_voice(
    caller: Reader,
    samples: Annotated[VoiceSamples, Depends(voice_samples)],
    voice: Annotated[
        str,
        Query(
            min_length=1,
            max_length=60,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9_/+-]*$",
            description="An espeak-ng voice (a language code such as `ko` or `en-gb`, optionally `+variant`).",
        ),
    ],
) -> Response:
    audio = await samples.espeak_sample(voice)
    return Response(audio, media_type="audio/wav", headers={"Cache-Control": "private, max-age=86400"})
