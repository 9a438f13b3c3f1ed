"""Standard Webhooks signing through the ``standardwebhooks`` library: the secrets and the three headers.

A secret is ``whsec_`` and the base64 of random bytes; the signature is HMAC-SHA256 over
``{webhook-id}.{webhook-timestamp}.{body}``, sent as ``webhook-signature: v1,<base64>``. The timestamp is the
attempt's, so a receiver's replay window (5 minutes in the library) holds for retries too.
"""

import base64
import binascii
import math
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
USER_AGENT = "reelflow-webhooks/0.1"


def new_webhook_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def is_webhook_secret(text: str) -> bool:
    if not text.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return False
    return MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES


def signed_headers(secret: str, message_id: str, body: str, *, at: float) -> dict[str, str]:
    """The headers of one attempt to send ``body``: ``webhook-id``, ``-timestamp`` and ``-signature``."""
    timestamp = datetime.fromtimestamp(math.floor(at), UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(at)),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
