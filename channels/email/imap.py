"""One blocking IMAP connection (imapclient), used from a single worker thread at a time."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

# What a dead or refused connection raises; the poller reconnects on any of them.
CONNECTION_ERRORS = (IMAPClientError, OSError, EOFError, ssl.SSLError)


@dataclass(frozen=True, slots=True)
class FolderState:
    uidvalidity: int
    uidnext: int | None


@dataclass(frozen=True, slots=True)
class FetchedMail:
    uid: int
    raw: bytes
    internal_date: datetime | None
    size: int | None = None  # RFC822.SIZE, as the server counts it
    headers_only: bool = False  # over the size limit: `raw` holds only the header block
    problem: str | None = None  # why `raw` is not the mail (the server sent no body)


class MailboxSession:
    """Login, select, search and fetch on one folder; nothing here touches the event loop."""

    def __init__(
        self, *, host: str, port: int, tls: str, username: str, password: str, folder: str,
        timeout: float,
    ) -> None:
        self._host, self._port, self._tls = host, port, tls
        self._username, self._password, self._folder = username, password, folder
        self._timeout = timeout
        self._client: IMAPClient | None = None

    def _connected(self) -> IMAPClient:
        if self._client is None:
            client = IMAPClient(
                self._host, port=self._port, ssl=self._tls == "ssl", timeout=self._timeout
            )
            try:
                if self._tls == "starttls":
                    client.starttls(ssl.create_default_context())
                client.login(self._username, self._password)
            except BaseException:
                _shutdown(client)
                raise
            self._client = client
        return self._client

    def select(self) -> FolderState:
        info = self._connected().select_folder(self._folder)
        uidnext = info.get(b"UIDNEXT")
        return FolderState(uidvalidity=int(info[b"UIDVALIDITY"]), uidnext=uidnext)

    def uids_after(self, last_uid: int) -> list[int]:
        # `n:*` always matches the highest UID, even when it is <= n: filter here.
        found = self._connected().search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def fetch(self, uids: list[int], max_size: int) -> list[FetchedMail]:
        """The mails of `uids` still in the folder; one over `max_size` bytes as headers only."""
        client = self._connected()
        meta = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        sizes = {uid: meta[uid].get(b"RFC822.SIZE") for uid in uids if uid in meta}
        small = [uid for uid, size in sizes.items() if not size or size <= max_size]
        large = [uid for uid in sizes if uid not in small]
        # BODY.PEEK leaves \Seen alone until the mail is stored; the reply drops the PEEK.
        bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        heads = client.fetch(large, ["BODY.PEEK[HEADER]"]) if large else {}
        fetched = []
        for uid in uids:
            if uid not in sizes:
                continue  # expunged since the search: nothing left to read
            key, data = (b"BODY[HEADER]", heads) if uid in heads else (b"BODY[]", bodies)
            raw = data.get(uid, {}).get(key)
            fetched.append(FetchedMail(
                uid=uid,
                raw=raw if isinstance(raw, bytes) else b"",
                internal_date=meta[uid].get(b"INTERNALDATE"),
                size=sizes[uid],
                headers_only=uid in large,
                problem=None if isinstance(raw, bytes) else "the server sent no content",
            ))
        return fetched

    def mark_seen(self, uids: list[int]) -> None:
        self._connected().add_flags(uids, [b"\\Seen"], silent=True)

    def wait_for_news(self, timeout: float, stop: threading.Event) -> None:
        """Wait in IDLE until the server announces mail, `timeout` passes or `stop` is set."""
        client = self._connected()
        if not client.has_capability("IDLE"):
            stop.wait(timeout)
            return
        deadline = time.monotonic() + timeout
        client.idle()
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                slice_ = min(1.0, remaining)
                started = time.monotonic()
                responses = client.idle_check(timeout=slice_)
                if any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
                if not responses and time.monotonic() - started < slice_ / 2:
                    # Readable with nothing to read: the server closed the connection.
                    raise EOFError("IMAP connection closed during IDLE")
        finally:
            if self._client is not None:
                client.idle_done()

    def close(self) -> None:
        """Log out if possible; a dead connection is simply dropped."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except CONNECTION_ERRORS:
            _shutdown(client)

    def drop(self) -> None:
        """Forget a connection that failed, without talking to the server."""
        client, self._client = self._client, None
        if client is not None:
            _shutdown(client)


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except CONNECTION_ERRORS:
        pass
