"""Each workspace's pronunciation lexicon: words its videos' narration always says its own way.

The lexicon is stored once per workspace (``lexicons``, keyed by workspace id) and laid under the lexicon of
each lesson render as it starts (REST, auto-render and schedules alike): a word the render request names wins
over the workspace's entry for it. tts applies the merged lexicon before its reading of numbers, dates and units.
"""

from typing import Any

from pydantic import Field
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from reelflow.contracts import Voice
from reelflow.contracts.specs import MAX_LEXICON_ENTRIES, LexiconSpoken, LexiconWord
from reelflow.gateway.ownership import VideoRegistry
from reelflow.gateway.request_bodies import RequestBody
from reelflow.gateway.stored_times import epoch_now

Document = dict[str, Any]


class WorkspaceLexicon(RequestBody):
    """Body of ``PUT /api/lexicon``, and its answer: the whole lexicon, replacing the one stored."""

    entries: dict[LexiconWord, LexiconSpoken] = Field(
        default_factory=dict,
        max_length=MAX_LEXICON_ENTRIES,
        description='A written word and how to say it (e.g. {"SQL": "sequel", "119": "일일구"}): whole words, '
        "case-insensitive; a render request's own `voice.lexicon` wins for a word both name.",
    )


def merged_voice(voice: Voice, workspace_entries: dict[str, str]) -> Voice:
    """``voice`` with the workspace's entries under its own; a word both name keeps the request's reading."""
    if not workspace_entries:
        return voice
    own = {word.casefold() for word in voice.lexicon}
    kept = {word: spoken for word, spoken in workspace_entries.items() if word.casefold() not in own}
    merged = {**kept, **voice.lexicon}
    if len(merged) > MAX_LEXICON_ENTRIES:  # the request's entries first, then as many of the workspace's as fit
        merged = dict(list({**voice.lexicon, **kept}.items())[:MAX_LEXICON_ENTRIES])
    return voice.model_copy(update={"lexicon": merged})


class WorkspaceLexicons:
    def __init__(self, client: AsyncMongoClient[Document], database: str, videos: VideoRegistry) -> None:
        self._lexicons = client[database]["lexicons"]
        self._videos = videos

    async def of_workspace(self, workspace_id: str) -> WorkspaceLexicon:
        document = await self._lexicons.find_one({"_id": workspace_id})
        return WorkspaceLexicon(entries=dict(document.get("entries", {}))) if document else WorkspaceLexicon()

    async def replace(self, workspace_id: str, lexicon: WorkspaceLexicon) -> WorkspaceLexicon:
        """Save ``lexicon`` as the workspace's whole lexicon. A replace, or an insert the first time (the
        MongoDB-wire server in use does not upsert on a replace)."""
        document = {"entries": lexicon.entries, "updated_at": epoch_now()}
        replaced = await self._lexicons.replace_one({"_id": workspace_id}, document)
        if replaced.matched_count == 0:
            try:
                await self._lexicons.insert_one({"_id": workspace_id, **document})
            except DuplicateKeyError:  # another replica saved one first: this save is the later one
                await self._lexicons.replace_one({"_id": workspace_id}, document)
        return lexicon

    async def voice_for_video(self, video_id: str, voice: Voice) -> Voice:
        """``voice`` with the lexicon of the workspace that owns ``video_id`` under its own."""
        workspace_id = await self._videos.owner_of(video_id)
        return merged_voice(voice, (await self.of_workspace(workspace_id)).entries)
