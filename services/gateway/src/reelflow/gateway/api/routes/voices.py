"""The voices a render request may ask for: ``GET /api/voices``."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from reelflow.contracts import VoiceProvider
from reelflow.gateway.api.deps import Reader, StateDep
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.voice_directory import VoiceDirectory, VoiceListing

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
