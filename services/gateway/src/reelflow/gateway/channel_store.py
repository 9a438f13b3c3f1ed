"""MongoDB persistence of connected YouTube channels (``channels``) and of the OAuth flows under way
(``channel_oauth_states``).

A channel is one document per (workspace, YouTube channel), holding its sealed grant: connecting the same channel
again replaces it. A flow's state is the document's id, so it is looked up by what Google sends back; it is taken
(deleted) by the one callback that uses it, so a state is single use even when two callbacks race. Times are epoch
seconds (see ``stored_times``).
"""

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient

Document = dict[str, Any]
CHANNELS = "channels"
OAUTH_STATES = "channel_oauth_states"


@dataclass(frozen=True)
class ChannelRecord:
    workspace_id: str
    channel_id: str
    title: str
    connected_by: str
    connected_at: float
    sealed_grant: bytes

    def document(self) -> Document:
        return {
            "_id": channel_document_id(self.workspace_id, self.channel_id),
            "workspace_id": self.workspace_id,
            "channel_id": self.channel_id,
            "title": self.title,
            "connected_by": self.connected_by,
            "connected_at": self.connected_at,
            # A Fernet token is url-safe base64: kept as text, which every MongoDB-wire server stores as it is.
            "sealed_grant": self.sealed_grant.decode("ascii"),
        }


@dataclass(frozen=True)
class OAuthState:
    state: str
    workspace_id: str
    started_by: str
    code_verifier: str
    redirect_uri: str
    expires_at: float


def channel_document_id(workspace_id: str, channel_id: str) -> str:
    return f"{workspace_id}:{channel_id}"


def channel_record(document: Document) -> ChannelRecord:
    return ChannelRecord(
        workspace_id=document["workspace_id"],
        channel_id=document["channel_id"],
        title=document.get("title") or "",
        connected_by=document.get("connected_by") or "",
        connected_at=float(document["connected_at"]),
        sealed_grant=str(document["sealed_grant"]).encode("ascii"),
    )


class ChannelStore:
    def __init__(self, client: AsyncMongoClient[Document], database: str) -> None:
        db = client[database]
        self._channels = db[CHANNELS]
        self._states = db[OAUTH_STATES]

    async def ensure_indexes(self) -> None:
        await self._channels.create_index([("workspace_id", 1), ("connected_at", 1)])
        await self._states.create_index([("expires_at", 1)])

    # ---- channels ---------------------------------------------------------------------------------------------
    async def save(self, record: ChannelRecord) -> None:
        """Store the channel, replacing the grant (and title) of the workspace's earlier connection of it."""
        document = record.document()
        await self._channels.replace_one({"_id": document["_id"]}, document, upsert=True)

    async def of_workspace(self, workspace_id: str) -> list[ChannelRecord]:
        cursor = self._channels.find({"workspace_id": workspace_id})
        records = [channel_record(document) async for document in cursor]
        return sorted(records, key=lambda record: (record.connected_at, record.channel_id))

    async def every_channel(self) -> list[ChannelRecord]:
        """Every workspace's channels (for re-sealing their grants under a new key): one per connection, few."""
        return [channel_record(document) async for document in self._channels.find({})]

    async def get(self, workspace_id: str, channel_id: str) -> ChannelRecord | None:
        document = await self._channels.find_one({"_id": channel_document_id(workspace_id, channel_id)})
        return channel_record(document) if document else None

    async def delete(self, workspace_id: str, channel_id: str) -> bool:
        result = await self._channels.delete_one({"_id": channel_document_id(workspace_id, channel_id)})
        return result.deleted_count == 1

    # ---- OAuth flows ------------------------------------------------------------------------------------------
    async def add_state(self, state: OAuthState) -> None:
        await self._states.insert_one(
            {
                "_id": state.state,
                "workspace_id": state.workspace_id,
                "started_by": state.started_by,
                "code_verifier": state.code_verifier,
                "redirect_uri": state.redirect_uri,
                "expires_at": state.expires_at,
            }
        )

    async def take_state(self, state: str) -> OAuthState | None:
        """The flow ``state`` names, deleted so that no other callback can use it; None when there is none."""
        document = await self._states.find_one_and_delete({"_id": state})
        if document is None:
            return None
        return OAuthState(
            state=document["_id"],
            workspace_id=document["workspace_id"],
            started_by=document.get("started_by") or "",
            code_verifier=document["code_verifier"],
            redirect_uri=document["redirect_uri"],
            expires_at=float(document["expires_at"]),
        )

    async def forget_expired(self, now: float) -> int:
        result = await self._states.delete_many({"expires_at": {"$lt": now}})
        return result.deleted_count
