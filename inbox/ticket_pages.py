"""The ticket page: conversation, suggestions, audit trail, and one-click actions through
TicketActions (the same code the API uses)."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from channels.registry import CHANNELS
from inbox import canned_pages
from inbox import message_previews as previews
from inbox.api import OPD_ACTIONS
from inbox.context import SERVICES, InboxServices
from inbox.delivery_words import delivery_words
from inbox.i18n import translate
from inbox.reporter_history import reporter_history
from inbox.sessions import STAFF, now, page, visitor
from inbox.uploads import Upload, refusal_words, store_uploads, uploads_of
from inbox.views import render
from store import deadlines
from store import queue as queue_store
from store import tickets as ticket_queries
from store.flags import OpdAnswer
from store.models import Attachment, Message, Reporter, Ticket, TicketEvent, User
from triage.action_requests import ActionRequest, given, parse_action
from triage.actions import CLARIFIABLE_FACTS, ActionInvalid, HeldByOther, TicketNotFound
from triage.answer_files import FileRefused, megabytes
from triage.canned import CannedReply
from triage.states import (
    FINAL_STATES,
    OPERATOR_ACTIONS,
    REJECT_RESOLUTIONS,
    TRANSITIONS,
    Action,
    Status,
    TransitionError,
)

routes = web.RouteTableDef()

# The order in which actions are offered on the page.
ACTION_ORDER = (
    Action.VERIFY,
    Action.REQUEST_CLARIFICATION,
    Action.FORWARD,
    Action.ACKNOWLEDGE,
    Action.ANSWER,
    Action.REPLY,
    Action.RESOLVE,
    Action.REJECT,
    Action.MERGE,
    Action.REOPEN,
    Action.NOTE,
    Action.MARK_SPAM,
    Action.UNMARK_SPAM,
)


@dataclass
class TicketView:
    ticket: Ticket
    reporter: Reporter
    conversation: list[tuple[Message, list[Attachment]]]
    events: list[TicketEvent]
    canned: list[CannedReply]  # the admins' canned replies (config.toml's are in services)
    follows: str | None = None  # the number of the reporter's earlier ticket this one follows
    history: list[Ticket] = field(default_factory=list)  # the reporter's other tickets (staff)
    holder: str | None = None  # the operator holding the ticket
    holders: list[str] = field(default_factory=list)  # whom it may be assigned to


def may_see(user: User, ticket: Ticket) -> bool:
    """Staff see every ticket; an OPD only those currently forwarded to it."""
    if user.role in STAFF:
        return True
    return ticket_queries.is_forwarded_to(ticket, user.opd)


def allowed_actions(user: User, ticket: Ticket, reporter: Reporter) -> list[Action]:
    """What this user can do to this ticket now, by role and by the state machine; the
    reporter's spam mark offers either marking or lifting it."""
    status = Status(ticket.status)
    marked = reporter.spam_marked_at is not None
    chosen = []
    for action in ACTION_ORDER:
        if action is Action.UNMARK_SPAM and not marked:
            continue
        if action is Action.MARK_SPAM and marked and status in FINAL_STATES:
            continue  # nothing left to do
        if action not in OPERATOR_ACTIONS or (status, action) not in TRANSITIONS:
            continue
        if user.role not in STAFF and action not in OPD_ACTIONS:
            continue
        if action is Action.FORWARD and status is not Status.FORWARDED:
            continue  # from a new ticket, verify's form forwards in the same step
        chosen.append(action)
    return chosen


def _load(services: InboxServices, number: str, user: User) -> TicketView | None:
    with services.db.read() as session:
        found = ticket_queries.get_ticket(session, number)
        if found is None or not may_see(user, found[0]):
            return None
        ticket, reporter = found
        history = reporter_history(session, ticket, user)  # as this user may see it
        return TicketView(
            ticket,
            reporter,
            ticket_queries.conversation(session, ticket.id or 0),
            ticket_queries.audit_trail(session, ticket.id or 0),
            [reply for _, reply in canned_pages.stored(session)],
            follows=history.follows.number if history.follows else None,
            history=history.others,
            holder=queue_store.holder_names(session, [ticket]).get(ticket.assignee_id or 0),
            holders=queue_store.assignable_names(session),
        )


async def _view_or_404(request: web.Request) -> TicketView:
    services = request.app[SERVICES]
    number = request.match_info["number"]
    view = await asyncio.to_thread(_load, services, number, visitor(request).user)
    if view is None:  # another OPD's ticket looks exactly like a missing one
        raise web.HTTPNotFound(  # a browser gets the error page (inbox/error_pages.py)
            text=translate("not_found", visitor(request).locale), content_type="text/plain"
        )
    return view


def reply_window(
    services: InboxServices, view: TicketView, moment: datetime
) -> dict[str, Any] | None:
    """The warning shown above the reply box when free text is no longer allowed."""
    # Platforms that allow free text only for a while after the reporter's last message.
    spec = CHANNELS.get(view.ticket.channel)
    window = spec.reply_window if spec is not None else None
    if window is None:
        return None
    last_in = max((m.sent_at for m, _ in view.conversation if m.direction == "in"), default=None)
    if last_in is not None and moment - last_in < window:
        return None
    # Past the window a reply goes out only as an approved template, where one is set up.
    template = view.ticket.channel in services.after_window
    return {"hours": int(window.total_seconds() // 3600), "template": template}


def _page_values(request: web.Request, view: TicketView) -> dict[str, Any]:
    services = request.app[SERVICES]
    moment = now(request)
    flags = view.ticket.hints
    missing = [f for f in flags.missing if f in CLARIFIABLE_FACTS]
    actions = allowed_actions(visitor(request).user, view.ticket, view.reporter)
    return {
        "view": view,
        "ticket": view.ticket,
        "flags": flags,
        "opd_answer": OpdAnswer.read(view.ticket.flags),
        "file_limit": megabytes(services.answer_files.max_bytes),
        "file_types": ",".join(sorted(services.answer_files.types)),
        "actions": actions,
        "first_open": _first_open(view.ticket, actions),
        "facts": CLARIFIABLE_FACTS,
        "missing": missing,
        "clarification_text": previews.clarification_text(services, view.ticket, missing, moment),
        "reject_reasons": sorted(r.value for r in REJECT_RESOLUTIONS),
        "reject_reason": previews.first_reason(view.ticket),
        "rejection_text": previews.rejection_text(
            services, view.ticket, previews.first_reason(view.ticket)
        ),
        "delivery": functools.partial(delivery_words, locale=visitor(request).locale),
        "canned": previews.canned_offers(
            services, view.ticket, view.reporter.display_name or "", view.canned, moment
        ),
        "categories": services.categories,
        "opds": services.opds,
        "category_names": {c.code: c.name for c in services.categories},
        "opd_names": {o.code: o.name for o in services.opds},
        "suggested_category": _suggested_category(services, view.ticket),
        "suggested_opd": _suggested_opd(services, view.ticket),
        "forwarding_text": previews.forwarding_text(
            services,
            view.ticket,
            _suggested_category(services, view.ticket),
            _suggested_opd(services, view.ticket),
            moment,
        ),
        "window": reply_window(services, view, moment),
        "overdue": deadlines.is_overdue(view.ticket, moment),
        "deadlines": deadlines.running(view.ticket),
        "holder": view.holder,
        "holders": view.holders,
        "held": None,
        "now": moment,
    }


@routes.get("/tickets/{number}/forwarding")
@page()
async def forwarding_preview(request: web.Request) -> web.Response:
    view = await _view_or_404(request)
    text = previews.forwarding_text(
        request.app[SERVICES],
        view.ticket,
        request.query.get("category"),
        request.query.get("opd"),
        now(request),
    )
    return web.Response(text=text, content_type="text/plain")


def _first_open(ticket: Ticket, actions: list[Action]) -> str | None:
    """The form open when the page loads: none on a closed ticket, whose history comes first."""
    if Status(ticket.status) in FINAL_STATES:
        return None
    if Action.VERIFY in actions:
        return Action.VERIFY.value
    return Action.REPLY.value


def _suggested_category(services: InboxServices, ticket: Ticket) -> str | None:
    """The category the verify form starts with: the ticket's, the suggestion's, or the first
    (what the browser would select anyway, so that the OPD shown agrees with it)."""
    if ticket.category:
        return ticket.category
    if ticket.hints.suggestions:
        return ticket.hints.suggestions[0].category
    return services.categories[0].code if services.categories else None


def _suggested_opd(services: InboxServices, ticket: Ticket) -> str | None:
    """The OPD the verify form starts with: the one already proposed, else the suggestion's,
    else the default of the category the form starts with."""
    if ticket.opd:
        return ticket.opd
    suggestions = ticket.hints.suggestions
    if suggestions and suggestions[0].opd:
        return suggestions[0].opd
    code = _suggested_category(services, ticket)
    category = next((c for c in services.categories if c.code == code), None)
    return category.opd if category else None


@routes.get("/tickets/{number}")
@page()
async def ticket_page(request: web.Request) -> web.Response:
    view = await _view_or_404(request)
    done = request.query.get("done")
    values = _page_values(request, view)
    return render(
        request, "ticket.html", done=done, error=None, error_words=None, error_status=0, **values
    )


@routes.get("/tickets/{number}/live")
@page()
async def ticket_live(request: web.Request) -> web.Response:
    """The parts of the page that change when a message or an action arrives (polled)."""
    view = await _view_or_404(request)
    return render(request, "_ticket_live.html", **_page_values(request, view))


@routes.get("/tickets/{number}/clarification")
@page()
async def clarification_preview(request: web.Request) -> web.Response:
    view = await _view_or_404(request)
    facts = [f for f in request.query.getall("facts", []) if f in CLARIFIABLE_FACTS]
    services = request.app[SERVICES]
    text = previews.clarification_text(services, view.ticket, facts, now(request))
    return web.Response(text=text, content_type="text/plain")


@routes.get("/tickets/{number}/rejection")
@page()
async def rejection_preview(request: web.Request) -> web.Response:
    view = await _view_or_404(request)
    reason = request.query.get("resolution", "")
    if reason not in {r.value for r in REJECT_RESOLUTIONS}:
        raise web.HTTPBadRequest(text="unknown reason", content_type="text/plain")
    text = previews.rejection_text(request.app[SERVICES], view.ticket, reason)
    return web.Response(text=text, content_type="text/plain")


def action_request(form: Any) -> ActionRequest:
    """The form of one action as TicketActions takes it; what is not one is ActionInvalid."""
    values: dict[str, Any] = {"action": str(form.get("action", ""))}
    for name in ("category", "opd", "message", "resolution", "into", "text", "assignee"):
        value = str(form.get(name) or "").strip()
        if value:  # an empty field of the form is one not given
            values[name] = value
    if form.get("forward") == "1":  # the verify form's "verify and forward" button
        values["forward"] = True
    facts = [str(f) for f in form.getall("facts", [])]
    if facts:
        values["facts"] = facts
    try:
        return parse_action(values)
    except ValidationError as exc:
        raise ActionInvalid(_form_problem(exc, values)) from None


def _form_problem(exc: ValidationError, values: dict[str, Any]) -> str:
    error = exc.errors()[0]
    if error["type"].startswith("union_tag"):
        return "unknown action"
    field = str(error["loc"][-1])
    if field == "resolution":
        return f"unknown reason {values['resolution']!r}"
    return f"{field}: {error['msg']}"


@routes.post("/tickets/{number}/actions")
@page()
async def act(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    user = visitor(request).user
    view = await _view_or_404(request)
    form = await request.post()
    stored = None
    uploads: list[Upload] = []
    try:
        wanted = action_request(form)
        if user.role not in STAFF and wanted.action not in OPD_ACTIONS:
            return _refused(request, view, wanted.action.value, 403)
        uploads = await asyncio.to_thread(uploads_of, form)  # aiohttp spooled them to disk
        stored = await store_uploads(services.data_dir, uploads, services.answer_files)
        # An OPD's liaison answers for the department, whichever operator holds the ticket.
        confirmed = form.get("confirm") == "held" or user.role not in STAFF
        await asyncio.to_thread(
            services.actions.apply,
            view.ticket.number,
            wanted,
            user.username,
            confirmed=confirmed,
            files=stored.files,
        )
        stored = None  # the action keeps them
    except FileRefused as exc:
        words = refusal_words(exc, visitor(request).locale)
        return _refused(request, view, str(exc), 400, words)
    except TicketNotFound:
        raise web.HTTPNotFound() from None
    except HeldByOther as exc:
        return _ask_first(request, view, exc, form, [u.name for u in uploads])
    except TransitionError as exc:
        words = translate(
            "error.transition",
            visitor(request).locale,
            action=translate(f"action.{exc.action.value}", visitor(request).locale),
            status=translate(f"status.{exc.status.value}", visitor(request).locale),
        )
        return _refused(request, view, str(exc), 409, words)
    except ActionInvalid as exc:
        return _refused(request, view, str(exc), 422)
    except DBAPIError:
        return _refused(request, view, "database unavailable", 503)
    finally:
        if stored is not None:  # the action did not happen: its files go too
            await asyncio.to_thread(stored.undo)
    done = "verify_forward" if given(wanted, "forward") else wanted.action.value
    raise web.HTTPSeeOther(f"/tickets/{view.ticket.number}?done={done}")


def _ask_first(
    request: web.Request, view: TicketView, held: HeldByOther, form: Any, files: list[str]
) -> web.Response:
    """The page again with a question: act although another operator holds the ticket?
    The answer posts the same values with the confirmation. Files cannot be carried in a
    form: the question names them and asks for them again, beside the button."""
    fields = [(k, str(v)) for k, v in form.items() if k not in ("csrf", "confirm", "files")]
    values = {
        **_page_values(request, view),
        "held": {
            "holder": held.holder,
            "action": held.action.value,
            "fields": fields,
            "files": files,
        },
    }
    return render(
        request, "ticket.html", done=None, error=None, error_words=None, error_status=0, **values
    )


def _refused(
    request: web.Request, view: TicketView, detail: str, status: int, words: str | None = None
) -> web.Response:
    """The ticket page again, saying in the visitor's words why; the technical `detail`
    (English, for whoever supports the inbox) stays in an attribute."""
    return render(
        request,
        "ticket.html",
        status=status,
        done=None,
        error=detail,
        error_words=words,
        error_status=status,
        **_page_values(request, view),
    )
