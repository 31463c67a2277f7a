"""Who the client is and whether it came over HTTPS, believing forwarding headers only from the
reverse proxies named in `[server] trusted_proxies`."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import hdrs, web

from inbox.context import SERVICES, Network

SCHEMES = frozenset({"http", "https"})
MAX_HOPS = 20  # a longer chain is not one our proxies wrote: stop reading it there


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str  # "http" or "https", as the client reached the first trusted proxy
    address: str  # the client's address: the peer, or the nearest untrusted hop a proxy names


ORIGIN_KEY = web.RequestKey("origin", Origin)


def origin(request: web.Request) -> Origin:
    """The request's origin, worked out once per request."""
    found = request.get(ORIGIN_KEY)
    if found is None:
        found = _origin(request, request.app[SERVICES].trusted_proxies)
        request[ORIGIN_KEY] = found
    return found


def is_https(request: web.Request) -> bool:
    return origin(request).scheme == "https"


def _origin(request: web.Request, trusted: Sequence[Network]) -> Origin:
    scheme = "https" if request.secure else "http"
    address = request.remote or ""
    if not trusted or not _trusted(address, trusted):
        return Origin(scheme, address)  # a direct client: its headers say nothing we believe
    # Each trusted proxy appended the hop it saw: walk back from the nearest until a hop is
    # not one of ours. X-Forwarded-* first: the README's nginx sets (overwrites) them, and would
    # pass a client's own `Forwarded` header through untouched.
    for hop_address, hop_scheme in reversed(_hops(request)[-MAX_HOPS:]):
        if hop_scheme is not None:
            scheme = hop_scheme
        if hop_address is None:
            break
        address = hop_address
        if not _trusted(address, trusted):
            break
    return Origin(scheme, address)


def _hops(request: web.Request) -> list[tuple[str | None, str | None]]:
    """(address, scheme) of each hop, farthest first; None where a hop does not say."""
    headers = request.headers
    if hdrs.X_FORWARDED_FOR in headers or hdrs.X_FORWARDED_PROTO in headers:
        fors = _values(headers.getall(hdrs.X_FORWARDED_FOR, []))
        protos = [_scheme(p) for p in _values(headers.getall(hdrs.X_FORWARDED_PROTO, []))]
        if not fors:
            return [(None, protos[-1] if protos else None)]
        if len(protos) == 1:  # one TLS terminator set it for the whole chain
            protos = protos * len(fors)
        pad: list[str | None] = [None] * max(0, len(fors) - len(protos))
        aligned = pad + protos[-len(fors) :]
        return [(_address(f), p) for f, p in zip(fors, aligned, strict=True)]
    try:
        elements = request.forwarded
    except ValueError:
        return []
    return [(_address(e.get("for", "")), _scheme(e.get("proto", ""))) for e in elements]


def _values(lines: list[str]) -> list[str]:
    return [part.strip() for line in lines for part in line.split(",") if part.strip()]


def _scheme(value: str) -> str | None:
    value = value.strip().strip('"').lower()
    return value if value in SCHEMES else None


def _address(value: str) -> str | None:
    """The IP address of a hop ("192.0.2.1", "192.0.2.1:80", "[2001:db8::1]:80"), else None."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None  # "unknown", an obfuscated name: no address to go by


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
