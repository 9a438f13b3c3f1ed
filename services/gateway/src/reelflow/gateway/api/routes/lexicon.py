"""The workspace's pronunciation lexicon: read it, or replace it whole."""

from fastapi import APIRouter

from reelflow.gateway.api.deps import LexiconsDep, Reader, Renderer
from reelflow.gateway.api.errors import error_responses
from reelflow.gateway.workspace_lexicons import WorkspaceLexicon

router = APIRouter(prefix="/api", tags=["voices"])


@router.get(
    "/lexicon",
    operation_id="getLexicon",
    response_model=WorkspaceLexicon,
    summary="Read the workspace's pronunciation lexicon",
    responses={200: {"description": "The lexicon; `entries` is empty until one is saved."}, **error_responses({})},
)
async def get_lexicon(caller: Reader, lexicons: LexiconsDep) -> WorkspaceLexicon:
    return await lexicons.of_workspace(caller.workspace_id)


@router.put(
    "/lexicon",
    operation_id="replaceLexicon",
    response_model=WorkspaceLexicon,
    summary="Replace the workspace's pronunciation lexicon",
    description="Every lesson the workspace renders from now on says these words this way (the narration only: "
    "subtitles keep the written word). A render request's own `voice.lexicon` wins for a word both name. Jobs "
    "already started keep the lexicon they started with.",
    responses={
        200: {"description": "The lexicon as saved."},
        **error_responses({422: "An entry is blank or too long, or there are more than 500 (`details.problems`)."}),
    },
)
async def replace_lexicon(body: WorkspaceLexicon, caller: Renderer, lexicons: LexiconsDep) -> WorkspaceLexicon:
    return await lexicons.replace(caller.workspace_id, body)
