"""A gateway process of its own that connects YouTube channels against a fake Google, on servers of its own (so no
other test's events reach it): for the tests of channels through the real gateway and the studio."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import Fernet

from reelflow.local.ports import LOOPBACK, free_port
from reelflow.local.servers import EmbeddedStack
from reelflow.local.workers import WorkerGroup
from tests.fake_youtube import FakeYouTube

READY_TIMEOUT_SEC = 120.0


def channel_settings_env(youtube: FakeYouTube) -> dict[str, str]:
    """The gateway's settings for connecting channels with ``youtube`` as Google (a fresh sealing key)."""
    return {
        "REELFLOW_YOUTUBE_CLIENT_ID": youtube.client_id,
        "REELFLOW_YOUTUBE_CLIENT_SECRET": youtube.client_secret,
        "REELFLOW_YOUTUBE_TOKEN_URI": youtube.token_uri,
        "REELFLOW_YOUTUBE_API_URL": youtube.api_url,
        "REELFLOW_YOUTUBE_AUTH_URI": f"{youtube.api_url}o/oauth2/v2/auth",
        "REELFLOW_YOUTUBE_CA_BUNDLE": str(youtube.ca_bundle),
        "REELFLOW_CHANNEL_TOKEN_KEY": Fernet.generate_key().decode(),
    }


@contextmanager
def own_channel_gateway(youtube: FakeYouTube, folder: Path) -> Iterator[str]:
    """Start the servers under ``folder`` and a gateway on them; yield its URL, and stop both afterwards."""
    stack = EmbeddedStack(folder / "stack")
    endpoints = stack.start()
    port = free_port()
    env = endpoints.service_env() | {"REELFLOW_GATEWAY_PORT": str(port)} | channel_settings_env(youtube)
    workers = WorkerGroup(env, folder / "logs", services=("gateway",))
    workers.start()
    try:
        url = f"http://{LOOPBACK}:{port}"
        workers.wait_ready(endpoints.nats_url, url, timeout_sec=READY_TIMEOUT_SEC)
        yield url
    finally:
        workers.stop()
        stack.stop()
