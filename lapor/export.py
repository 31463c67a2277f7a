"""Kanal's tickets in SP4N-LAPOR!'s export columns, for the regency's report to the national
system; `lapor import` reads the file back.

Category and office are written as the platform names them: the first of `lapor = [...]` of
the `[[category]]` or `[[opd]]` table, else its name. A ticket imported from LAPOR! keeps its
Tracking ID and the columns it came with; Kanal's own tickets carry their number. Reporters of
anonymous and confidential reports have no name to write.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from channels.registry import CHANNELS
from lapor import columns as c
from lapor.records import PREFIX
from store.models import Message, Reporter, Ticket, TicketEvent
from triage.config import CategoryConfig, OpdConfig
from triage.learning import IMPORTED


def export_rows(
    session: Session,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    categories: Sequence[CategoryConfig],
    opds: Sequence[OpdConfig],
) -> list[dict[str, str]]:
    """One row per ticket created in [start, end), oldest first, by column name."""
    category_names = {t.code: (t.lapor[0] if t.lapor else t.name) for t in categories}
    opd_names = {t.code: (t.lapor[0] if t.lapor else t.name) for t in opds}
    tickets = session.exec(
        select(Ticket, Reporter)
        .join(Reporter, col(Reporter.id) == Ticket.reporter_id)
        .where(col(Ticket.created_at) >= start, col(Ticket.created_at) < end)
        .order_by(col(Ticket.created_at), col(Ticket.id))
    ).all()
    ids = [t.id for t, _ in tickets]
    texts = _reporter_texts(session, ids)
    imported = _imported(session, ids)
    rows = []
    for ticket, reporter in tickets:
        kept = imported.get(ticket.id or 0, {})
        local = ticket.created_at.astimezone(tz)
        said = texts.get(ticket.id or 0, [])
        first = said[0] if said else (None, ticket.summary)
        row = {name: kept.get(name, "") for name in c.COLUMNS}
        row.update(
            {
                c.TRACKING_ID: ticket.number.removeprefix(PREFIX),
                c.DATE: c.format_date(local.date()),
                c.TIME: local.strftime("%H:%M"),
                c.REPORTER: "" if _hidden(kept) else (reporter.display_name or ""),
                c.CLASSIFICATION: kept.get(c.CLASSIFICATION) or "Pengaduan",
                c.CATEGORY: category_names.get(ticket.category or "", ""),
                c.TITLE: first[0] or "",
                c.FIRST_TEXT: first[1],
                c.LAST_TEXT: kept.get(c.LAST_TEXT) or "\n\n".join(text for _, text in said),
                c.SOURCE: kept.get(c.SOURCE) or _channel_name(ticket.channel),
                c.AGENCY: opd_names.get(ticket.opd or "", ""),
                c.STATUS: c.EXPORT_STATUS.get(ticket.status, ticket.status),
            }
        )
        rows.append(row)
    return rows


def write_export(rows: Sequence[dict[str, str]], path: Path, fmt: str) -> None:
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "Laporan"
        sheet.append(list(c.COLUMNS))
        for row in rows:
            # Text cells throughout: a Tracking ID of digits must not turn into a number.
            sheet.append([row.get(name, "") for name in c.COLUMNS])
        book.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(c.COLUMNS))
        writer.writeheader()
        writer.writerows(rows)


def _reporter_texts(session: Session, ids: list[Any]) -> dict[int, list[tuple[str | None, str]]]:
    texts: dict[int, list[tuple[str | None, str]]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(Message.ticket_id, Message.subject, Message.text)
            .where(col(Message.ticket_id).in_(ids[start : start + 500]), Message.direction == "in")
            .order_by(col(Message.ticket_id), col(Message.sent_at), col(Message.id))
        )
        for ticket_id, subject, text in rows:
            texts.setdefault(ticket_id, []).append((subject, text or ""))
    return texts


def _imported(session: Session, ids: list[Any]) -> dict[int, dict[str, str]]:
    """The platform's own columns of tickets imported from it."""
    kept: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(
            select(TicketEvent.ticket_id, TicketEvent.data).where(
                col(TicketEvent.ticket_id).in_(ids[start : start + 500]),
                TicketEvent.action == IMPORTED,
            )
        )
        for ticket_id, data in rows:
            if isinstance(data, str):
                data = json.loads(data)
            kept[ticket_id] = dict(data.get("lapor") or {})
    return kept


def _hidden(kept: dict[str, str]) -> bool:
    return kept.get(c.PRIVACY, "").casefold() in c.HIDDEN_IDENTITY


def _channel_name(channel: str) -> str:
    spec = CHANNELS.get(channel)
    return spec.label("id") if spec is not None else channel
