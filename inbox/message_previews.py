"""What the reporter would read, shown on the ticket's forms before it goes: the clarification
request, the refusal, the forwarding notice and the canned replies, filled in for the ticket."""

from __future__ import annotations

from datetime import datetime

from inbox.context import InboxServices
from store.models import Ticket
from triage import messages
from triage.canned import FORMS, CannedReply, Offered, offered
from triage.sla import opd_answer_term
from triage.states import REJECT_RESOLUTIONS, Resolution


def canned_offers(
    services: InboxServices,
    ticket: Ticket,
    reporter_name: str,
    stored: list[CannedReply],
    moment: datetime,
) -> dict[str, list[Offered]]:
    """Per form, the canned replies it offers, filled in for this ticket in the reporters'
    language: what the operator picks is what the reporter reads."""
    rules = services.actions.rules
    due = ticket.opd_due_at or ticket.due_at or ticket.clarification_due_at
    if due is None:  # a request for clarification would set this one
        due = rules.calendar.due(moment, rules.triage.clarification_timeout)
    opd_names = {o.code: o.name for o in services.opds}
    values = {
        "name": reporter_name,
        "number": ticket.number,
        "deadline": messages.format_due(due, rules.tz, rules.locale),
        "opd": opd_names.get(ticket.opd or "", ""),
    }
    replies = [*services.canned, *stored]
    return {form: offered(replies, form, rules.locale, values) for form in FORMS}


def forwarding_text(
    services: InboxServices,
    ticket: Ticket,
    category_code: str | None,
    opd_code: str | None,
    moment: datetime,
) -> str:
    """What the reporter is told when the ticket goes to `opd_code` now ("" without an OPD)."""
    rules = services.actions.rules
    opd = rules.opds.get(opd_code or "")
    if opd is None:
        return ""
    category = rules.categories.get(category_code or "")
    due = rules.calendar.due(moment, opd_answer_term(rules.triage, category))
    return messages.render(
        "forwarded",
        rules.locale,
        number=ticket.number,
        region=rules.region,
        opd=opd.name,
        deadline=messages.format_due(due, rules.tz, rules.locale),
    )


def first_reason(ticket: Ticket) -> str:
    """The reason the reject form starts with (the template shown matches it)."""
    if ticket.hints.out_of_jurisdiction:
        return Resolution.OUT_OF_JURISDICTION.value
    return sorted(r.value for r in REJECT_RESOLUTIONS)[0]


def rejection_text(services: InboxServices, ticket: Ticket, reason: str) -> str:
    """The refusal the reporter would get for `reason`, to read and edit before it goes."""
    rules = services.actions.rules
    return messages.render(
        f"reject.{reason}", rules.locale, number=ticket.number, region=rules.region
    )


def clarification_text(
    services: InboxServices, ticket: Ticket, facts: list[str], moment: datetime
) -> str:
    """The request the reporter would get, so that the operator can edit it before sending."""
    rules = services.actions.rules
    due = rules.calendar.due(moment, rules.triage.clarification_timeout)
    return messages.clarification(
        facts or ["supporting_data"],
        rules.locale,
        number=ticket.number,
        deadline=messages.format_due(due, rules.tz, rules.locale),
    )
