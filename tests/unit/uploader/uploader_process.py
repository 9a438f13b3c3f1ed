"""An uploader process for the kill test: the real handler on FastStream's in-memory broker, over a directory
blob store, publishing the ``rf.render.stored`` event read from a file. Settings come from the environment.

    python tests/unit/uploader/uploader_process.py BLOB_DIR EVENT_JSON
"""

import asyncio
import sys
from pathlib import Path

from faststream.nats import TestNatsBroker

from reelflow.contracts import RenderStored
from reelflow.runtime.attempts import InMemoryAttemptStates
from reelflow.runtime.blobs import DirectoryBlobStore
from reelflow.runtime.service import build_runtime
from reelflow.uploader.handlers import router
from reelflow.uploader.settings import UploaderSettings


async def upload_once(blob_dir: Path, stored: RenderStored) -> None:
    runtime = build_runtime(
        "uploader", UploaderSettings(), router, blobs=DirectoryBlobStore(blob_dir), attempts=InMemoryAttemptStates()
    )
    async with TestNatsBroker(runtime.broker) as broker:
        await broker.publish(stored.model_dump(mode="json"), RenderStored.subject)


if __name__ == "__main__":
    asyncio.run(upload_once(Path(sys.argv[1]), RenderStored.model_validate_json(Path(sys.argv[2]).read_bytes())))
