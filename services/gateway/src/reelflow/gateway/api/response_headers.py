"""Security headers on every HTTP answer of the gateway: API results, errors, 404s, files and the pages it serves.

A pure ASGI middleware (not ``BaseHTTPMiddleware``, which would buffer streamed answers such as SSE and video): it
adds each header to the response start unless the response chose its own (the documentation pages carry a
Content-Security-Policy of their own, see ``docs_pages``).
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything from the gateway itself, nothing inline, nothing from elsewhere, never framed.
STRICT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# The studio plays video and shows pages; it needs no sensor, payment or device access.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": STRICT_CONTENT_SECURITY_POLICY,
    "Permissions-Policy": PERMISSIONS_POLICY,
}
# Sent only on answers to HTTPS requests: over plain HTTP a browser ignores it, and a man in the middle could forge it.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def came_over_tls(scope: Scope, *, trust_forwarded_headers: bool) -> bool:
    """The request reached us over HTTPS, or (when we sit behind a TLS-terminating proxy we trust) reached it so."""
    if scope.get("scheme") == "https":
        return True
    if not trust_forwarded_headers:
        return False
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, trust_forwarded_headers: bool = False) -> None:
        self.app = app
        self.trust_forwarded_headers = trust_forwarded_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers_to_add = dict(SECURITY_HEADERS)
        if came_over_tls(scope, trust_forwarded_headers=self.trust_forwarded_headers):
            headers_to_add["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in headers_to_add.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
