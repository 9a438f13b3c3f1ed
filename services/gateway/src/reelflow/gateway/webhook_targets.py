"""Where a webhook may be sent (no SSRF): an http(s) URL whose host is a public address.

A target is checked twice. When it is saved (a subscription's ``url``, a job's ``callback_url``) a literal address
or ``localhost`` is refused at once, with a 422 naming the field. When it is sent to, its host is resolved and every
address it resolves to must be public; the request then goes to the address that was checked (the ``Host`` header
and TLS server name keep the original host), so a DNS answer that changes between check and connect cannot point it
at the gateway's own network. ``webhook_allow_private_targets`` turns both checks off (local receivers, tests).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port → the addresses it resolves to (as text); injected in tests.
Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SEC = 5.0
DEFAULT_PORTS = {"http": 80, "https": 443}
PRIVATE_ALLOWED_HINT = "set REELFLOW_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow it on a trusted network"


class TargetRefusedError(Exception):
    """A webhook target the gateway will not send to; the message says why, for the delivery log."""

    retryable = False


class TargetUnresolvedError(TargetRefusedError):
    """The target's host does not resolve right now; like any network error, the delivery is tried again."""

    retryable = True


def refused_address_reason(address: IpAddress) -> str | None:
    """Why ``address`` is no place for a webhook (loopback, private, link-local, …), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refused_address_reason(address.ipv4_mapped)
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def literal_address(host: str) -> IpAddress | None:
    """The address a host names literally, including the old IPv4 spellings (``2130706433``, ``0x7f.1``) that
    resolvers accept; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def target_problem(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with ``url`` as a webhook target, as far as can be told without DNS; None when it may be saved."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return "must be an absolute http:// or https:// URL with a host"
    if allow_private:
        return None
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is a loopback name; webhooks go to public addresses only ({PRIVATE_ALLOWED_HINT})"
    address = literal_address(host)
    reason = refused_address_reason(address) if address is not None else None
    if reason is not None:
        return f"{host} is {reason}; webhooks go to public addresses only ({PRIVATE_ALLOWED_HINT})"
    return None


def target_problems(field: str, url: str | None, *, allow_private: bool) -> list[dict[str, str]]:
    """The 422 problem of a webhook target that may not be saved, naming ``field`` (none when it may)."""
    problem = target_problem(url, allow_private=allow_private) if url else None
    return [] if problem is None else [{"field": field, "problem": problem}]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives ``host`` (with a timeout, like every outside call)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT_SEC)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class PinnedTarget:
    """Where one send goes: the URL to connect to, and the headers and extensions that keep the original host."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def pinned_to(url: str, address: str) -> PinnedTarget:
    """``url`` sent to ``address``: the host is swapped for it, and the original goes in ``Host`` and the TLS
    server name (so the certificate is still checked against the name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    pinned = urlunsplit((parts.scheme, _netloc(address, parts.port), parts.path, parts.query, ""))
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return PinnedTarget(pinned, {"Host": _netloc(host, parts.port)}, extensions)


async def checked_target(url: str, *, allow_private: bool, resolver: Resolver) -> PinnedTarget:
    """The target to send ``url``'s webhook to, after DNS; raises :class:`TargetRefusedError` when the URL or any
    address its host resolves to is not public (:class:`TargetUnresolvedError` when it does not resolve)."""
    problem = target_problem(url, allow_private=allow_private)
    if problem is not None:
        raise TargetRefusedError(problem)
    if allow_private:
        return PinnedTarget(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = await resolver(host, parts.port or DEFAULT_PORTS[parts.scheme])
    except (OSError, TimeoutError) as error:
        raise TargetUnresolvedError(f"{host} does not resolve ({type(error).__name__}: {error})") from error
    if not addresses:
        raise TargetUnresolvedError(f"{host} does not resolve")
    for text in addresses:
        reason = refused_address_reason(ipaddress.ip_address(text.split("%", 1)[0]))
        if reason is not None:
            raise TargetRefusedError(
                f"{host} resolves to {text}, {reason}; webhooks go to public addresses only ({PRIVATE_ALLOWED_HINT})"
            )
    return pinned_to(url, addresses[0].split("%", 1)[0])
