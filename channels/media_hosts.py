"""Where a channel may send its token or fetch media: ids checked, hosts on an allow-list."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from channels.base import PlatformError

# The CDNs the platforms serve attachments from (shared/research/channels.md); a channel's
# `media_hosts` key replaces its default. "*.example.com" allows every subdomain.
WHATSAPP_MEDIA_HOSTS = ("lookaside.fbsbx.com",)
META_MEDIA_HOSTS = ("*.fbcdn.net", "*.cdninstagram.com", "*.fbsbx.com")
X_MEDIA_HOSTS = ("pbs.twimg.com",)

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# A platform's id as one path segment: no "/", no "..", no "%", no query.
_ID = re.compile(r"^[A-Za-z0-9_:$=-][A-Za-z0-9_.:$=-]{0,255}$")


def checked_id(value: object, what: str = "id") -> str:
    """`value` if it is a plain platform id fit for one URL path segment; else a PlatformError."""
    if isinstance(value, str) and _ID.fullmatch(value) and ".." not in value:
        return value
    shown = str(value).encode("unicode_escape").decode("ascii")[:80]
    raise PlatformError(f"refused {what} {shown!r}: not a plain id", retryable=False,
                        code="bad_id")


def same_origin(url: str, base: str) -> bool:
    """Whether `url` is on `base`'s scheme, host and port, under its path (the API version)."""
    try:
        target, origin = urlsplit(url), urlsplit(base)
        ports = (target.port, origin.port)
    except ValueError:
        return False
    prefix = origin.path.rstrip("/") + "/"
    return (
        _plain_url(url)
        and (target.scheme, target.hostname, ports[0]) == (origin.scheme, origin.hostname, ports[1])
        and target.path.startswith(prefix)
        and ".." not in target.path.split("/")
        and "%2e" not in target.path.lower()
    )


def host_allowed(url: str, hosts: Iterable[str], api_base: str = "") -> bool:
    """Whether `url` is on one of `hosts` (or `api_base`'s own host, which has the token
    anyway), over https; plain http only on the loopback, for local fakes."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not _plain_url(url) or not host or parts.scheme not in ("https", "http"):
        return False
    if parts.scheme == "http" and host not in _LOOPBACK:
        return False
    named = {host, f"{host}:{port}"} if port else {host}
    for entry in [*hosts, _host_of(api_base)]:
        entry = entry.lower()
        if entry.startswith("*.") and host.endswith(entry[1:]):
            return True
        if entry and entry in named:
            return True
    return False


def refused_host(url: str, step: str) -> PlatformError:
    host = urlsplit(url).netloc.encode("unicode_escape").decode("ascii")[:120] if url else ""
    return PlatformError(
        f"{step} refused: {host or 'no host'} is not one of the channel's media_hosts",
        retryable=False, code="host_refused",
    )


def _plain_url(url: str) -> bool:
    """No user info and no backslash, which parsers split differently (host confusion)."""
    parts = urlsplit(url)
    return "\\" not in url and parts.username is None and parts.password is None


def _host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return f"{host}:{port}" if host and port else host
