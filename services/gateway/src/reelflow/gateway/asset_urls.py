"""Absolute download URLs of a job's assets, as a client outside the cluster fetches them (pure).

Each is the gateway's ``GET /api/assets/{job_id}/{kind}`` under REELFLOW_PUBLIC_BASE_URL: the gateway checks the
caller's credentials (an API key, or the backend's ``X-Internal-Token``) and streams the file, or redirects to a
presigned URL when REELFLOW_PUBLIC_S3_URL is set. A presigned URL itself is not handed out: it would expire while
the event that carries it is still being read. An asset the storage service published with a URL of its own (the
Spring backend's lasting URL, under REELFLOW_STORAGE_PROVIDER=backend_presigned) keeps it.
"""

from collections.abc import Iterable
from urllib.parse import quote

from reelflow.contracts import Asset, AssetKind


def asset_url(base_url: str, job_id: str, kind: AssetKind | str) -> str:
    """``{base_url}/api/assets/{job_id}/{kind}``, the job id escaped as one path segment."""
    kind_name = kind.value if isinstance(kind, AssetKind) else kind
    return f"{base_url.rstrip('/')}/api/assets/{quote(job_id, safe='')}/{kind_name}"


def with_urls(assets: Iterable[Asset], job_id: str, base_url: str) -> list[Asset]:
    """The assets, each with its download URL: the one it was published with (the Spring backend's, with
    REELFLOW_STORAGE_PROVIDER=backend_presigned), else the gateway's."""
    return [
        asset if asset.url else asset.model_copy(update={"url": asset_url(base_url, job_id, asset.kind)})
        for asset in assets
    ]
