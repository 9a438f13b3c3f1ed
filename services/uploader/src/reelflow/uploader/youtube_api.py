"""The YouTube Data API v3 client for one channel: google-api-python-client over google-auth credentials.

The client is built from the discovery document shipped inside google-api-python-client, so nothing is
downloaded at run time; ``api_url`` points it (uploads included) at another host, such as a local fake.
Every HTTP exchange, the token refresh included, goes through one ``httplib2.Http`` with a socket timeout.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build

from reelflow.uploader.channel_credentials import ChannelGrant

if TYPE_CHECKING:  # the typed resource exists only in google-api-python-client-stubs
    from googleapiclient._apis.youtube.v3 import YouTubeResource

# Upload a video and set its thumbnail (youtube.upload); insert captions (youtube.force-ssl).
YOUTUBE_SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)


def channel_credentials_for(grant: ChannelGrant) -> Credentials:
    """OAuth user credentials that refresh their access token from the grant's refresh token when needed."""
    return Credentials(  # type: ignore[no-untyped-call]  # google-auth leaves __init__ unannotated
        token=None,
        refresh_token=grant.refresh_token.get_secret_value(),
        client_id=grant.client_id,
        client_secret=grant.client_secret.get_secret_value(),
        token_uri=grant.token_uri,
        scopes=list(YOUTUBE_SCOPES),
    )


def youtube_client(
    grant: ChannelGrant, *, api_url: str, timeout_sec: float, ca_bundle: Path | None = None
) -> "YouTubeResource":
    transport = httplib2.Http(timeout=timeout_sec, ca_certs=str(ca_bundle) if ca_bundle else None)
    # A resumable upload answers 308 for "go on", not as a redirect: as googleapiclient.http.build_http does
    # (which takes no timeout but the process-wide socket default, hence our own Http).
    transport.redirect_codes = transport.redirect_codes - {308}
    authorized = AuthorizedHttp(channel_credentials_for(grant), http=transport)
    return build(
        "youtube",
        "v3",
        http=authorized,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_url},
    )
