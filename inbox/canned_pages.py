"""Canned replies on /canned: admins add and remove them; operators see what is offered. Those
from config.toml are listed too, read-only."""

from __future__ import annotations

import asyncio

from aiohttp import web
from pydantic import ValidationError
from sqlmodel import Session, col, select

from inbox.context import SERVICES
from inbox.i18n import translate
from inbox.sessions import MANAGERS, now, page, visitor
from inbox.views import render
from store.models import CannedReplyRow
from texts.catalog import LOCALES
from triage.canned import FORMS, PLACEHOLDERS, CannedReply

routes = web.RouteTableDef()
ADMINS = frozenset({"admin"})


def stored(session: Session) -> list[tuple[int, CannedReply]]:
    """The admins' canned replies, oldest first, as the forms offer them."""
    rows = session.exec(select(CannedReplyRow).order_by(col(CannedReplyRow.id))).all()
    return [
        (row.id or 0, CannedReply(title=row.title, text=row.text, forms=tuple(row.forms)))
        for row in rows
    ]


async def _page(request: web.Request, *, error: str | None = None, status: int = 200):
    services = request.app[SERVICES]

    def read() -> list[tuple[int, CannedReply]]:
        with services.db.read() as session:
            return stored(session)

    return render(
        request,
        "canned.html",
        status=status,
        configured=services.canned,
        stored=await asyncio.to_thread(read),
        admin=visitor(request).user.role == "admin",
        forms=FORMS,
        languages=LOCALES,
        placeholders=sorted(PLACEHOLDERS),
        error=error,
    )


@routes.get("/canned")
@page(MANAGERS)
async def canned(request: web.Request) -> web.Response:
    return await _page(request)


@routes.post("/canned")
@page(ADMINS)
async def add(request: web.Request) -> web.Response:
    form = await request.post()
    texts = {lang: str(form.get(f"text_{lang}", "")).strip() for lang in LOCALES}
    try:
        reply = CannedReply(
            title=str(form.get("title", "")).strip(),
            text={lang: text for lang, text in texts.items() if text},
            forms=tuple(str(f) for f in form.getall("forms", [])) or FORMS,
        )
    except ValidationError as exc:
        reason = translate("canned.invalid", visitor(request).locale, detail=_first(exc))
        return await _page(request, error=reason, status=422)
    db, actor, moment = request.app[SERVICES].db, visitor(request).user.username, now(request)

    def write() -> None:
        with db.write() as session:
            session.add(
                CannedReplyRow(
                    title=reply.title,
                    text=reply.text,
                    forms=list(reply.forms),
                    updated_by=actor,
                    updated_at=moment,
                )
            )

    await asyncio.to_thread(write)
    raise web.HTTPSeeOther("/canned")


@routes.post(r"/canned/{reply_id:\d{1,18}}/delete")
@page(ADMINS)
async def delete(request: web.Request) -> web.Response:
    db = request.app[SERVICES].db
    reply_id = int(request.match_info["reply_id"])

    def write() -> bool:
        with db.write() as session:
            row = session.get(CannedReplyRow, reply_id)
            if row is None:
                return False
            session.delete(row)
            return True

    if not await asyncio.to_thread(write):
        raise web.HTTPNotFound()
    raise web.HTTPSeeOther("/canned")


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"
