"""Files sent to reporters on channels that take no files (X, SMS), reached by the signed link
in the message (triage/file_links.py): no login, one token per file, and only files Kanal sent."""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlmodel import col, select

from inbox.attachments import file_response, stored_file
from inbox.context import SERVICES, InboxServices
from store.models import Attachment, Message
from store.tickets import MAX_ID
from triage.file_links import valid

routes = web.RouteTableDef()


def _sent_file(services: InboxServices, attachment_id: int) -> Attachment | None:
    """The attachment when it belongs to a message Kanal sent; a reporter's own files and
    anything else look exactly like a missing one."""
    if attachment_id > MAX_ID:
        return None
    with services.db.read() as session:
        return session.exec(
            select(Attachment)
            .join(Message, col(Message.id) == Attachment.message_id)
            .where(Attachment.id == attachment_id, Message.direction == "out")
        ).first()


@routes.get("/files/{attachment_id:\\d+}/{token}")
async def public_file(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    attachment_id = int(request.match_info["attachment_id"])
    secret = services.link_secret
    if not secret or not valid(secret, attachment_id, request.match_info["token"]):
        raise web.HTTPNotFound()
    found = await asyncio.to_thread(_sent_file, services, attachment_id)
    if found is None or not found.stored_path or services.data_dir is None:
        raise web.HTTPNotFound()
    path = await asyncio.to_thread(stored_file, services.data_dir, found.stored_path)
    if path is None:
        raise web.HTTPNotFound()
    return file_response(path, found.mime_type, found.file_name or path.name)
