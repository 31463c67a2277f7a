"""Attachments for signed-in staff: looked up by id, read only from inside the data directory."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import quote

from aiohttp import web
from sqlmodel import col, select

from inbox.context import SERVICES, InboxServices
from inbox.sessions import page, visitor
from inbox.ticket_pages import may_see
from store.flags import AnswerFile, OpdAnswer
from store.models import Attachment, Message, Ticket, User
from store.tickets import MAX_ID, get_ticket

routes = web.RouteTableDef()

# Shown in the page; anything else (HTML, SVG, PDF, ...) is only ever downloaded.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _find(services: InboxServices, attachment_id: int, user: User) -> Attachment | None:
    if attachment_id > MAX_ID:  # no row has it, and SQLite cannot even take it as a parameter
        return None
    with services.db.read() as session:
        row = session.exec(
            select(Attachment, Ticket)
            .join(Message, col(Message.id) == Attachment.message_id)
            .join(Ticket, col(Ticket.id) == Message.ticket_id)
            .where(Attachment.id == attachment_id)
        ).first()
    if row is None or not may_see(user, row[1]):
        return None
    return row[0]


def stored_file(data_dir: Path, stored_path: str) -> Path | None:
    """The file behind `stored_path`, or None when it would lie outside `data_dir`."""
    root = data_dir.resolve()
    target = (root / stored_path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


@routes.get("/attachments/{attachment_id:\\d+}")
@page()
async def attachment(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    found = await asyncio.to_thread(
        _find, services, int(request.match_info["attachment_id"]), visitor(request).user
    )
    if found is None or not found.stored_path or services.data_dir is None:
        raise web.HTTPNotFound()
    path = await asyncio.to_thread(stored_file, services.data_dir, found.stored_path)
    if path is None:
        raise web.HTTPNotFound()
    download = request.query.get("download") == "1"
    return file_response(path, found.mime_type, found.file_name or path.name, download=download)


def file_response(
    path: Path, mime_type: str | None, name: str, *, download: bool = False
) -> web.FileResponse:
    """A stored file as the browser may take it: only the image types shown inline."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if not _MIME.match(mime):
        mime = "application/octet-stream"
    inline = mime in INLINE_TYPES and not download
    disposition = "inline" if inline else "attachment"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": mime,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
            # Even if a browser were talked into rendering it, it runs nothing.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            # Never kept: a shared computer must not show it after sign-out.
            "Cache-Control": "no-store",
        },
    )


@routes.get("/tickets/{number}/answer-files/{index:\\d+}")
@page()
async def answer_file(request: web.Request) -> web.StreamResponse:
    """A file of the OPD's answer still waiting for the operator's review (once sent, it is an
    attachment of the message like any other)."""
    services = request.app[SERVICES]
    user = visitor(request).user
    number = request.match_info["number"]

    def find() -> AnswerFile | None:
        with services.db.read() as session:
            found = get_ticket(session, number)
        if found is None or not may_see(user, found[0]):
            return None
        files = OpdAnswer.read(found[0].flags).opd_answer_files
        index = int(request.match_info["index"])
        return files[index] if index < len(files) else None

    wanted = await asyncio.to_thread(find)
    if wanted is None or services.data_dir is None:
        raise web.HTTPNotFound()
    path = await asyncio.to_thread(stored_file, services.data_dir, wanted.path)
    if path is None:
        raise web.HTTPNotFound()
    return file_response(path, wanted.mime_type, wanted.name, download=False)
