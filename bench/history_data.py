"""Ten years of reports for bench/history.py: N tickets written through the store's bulk insert.

Channels in Pati's proportions, almost every ticket closed and a few hundred open, ~3 messages
and ~6 audit events per ticket, a third with a photo, texts from the simulator's reports with
the village and neighbourhood that make each one different, categories and OPDs from config.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, text

from channels.simulated.reports import NAMES, REPORTS
from store.bulk import BulkInsert
from store.models import Attachment, Message, RawEvent, Reporter, Ticket, TicketCounter, TicketEvent
from store.rows import AttachmentRow, EventRow, RawRow

CHANNELS = {"whatsapp": 71, "instagram": 15, "facebook": 12, "x": 1, "email": 0.6, "telegram": 0.4}
VILLAGES = [
    "Sidokerto", "Tlogoayu", "Ngarus", "Plangitan", "Widorokandang", "Kutoharjo", "Sarirejo",
    "Parenggan", "Blaru", "Geritan", "Mustokoharjo", "Ngepungrojo", "Sugiharjo", "Kalidoro",
    "Dengkek", "Muktiharjo", "Purworejo", "Mojoagung", "Trangkil", "Tlutup", "Ngemplak",
    "Sambiroto", "Bakaran", "Growong", "Kebonsawahan", "Margorejo", "Wedarijaksa", "Tayu",
    "Dukuhseti", "Cluwak", "Gembong", "Pucakwangi", "Jaken", "Batangan", "Jakenan",
    "Tambakromo", "Winong", "Sukolilo", "Kayen", "Gabus",
]  # fmt: skip
OPENERS = ["", "Selamat pagi, ", "Mohon maaf, ", "Assalamualaikum, ", "Permisi, ", "Tolong, "]
REPLIES = [
    "Terima kasih, laporan Anda kami teruskan ke dinas terkait.",
    "Mohon kirim foto dan titik lokasi agar dapat kami tindak lanjuti.",
    "Laporan sudah ditangani petugas, terima kasih atas partisipasinya.",
]
FOLLOW_UPS = [
    "Ini fotonya pak.",
    "Lokasinya di dekat masjid.",
    "Sampai sekarang belum ada tindakan.",
    "Terima kasih sudah ditangani.",
]
OPEN_STATUSES = ["new"] * 3 + ["clarifying"] * 2 + ["forwarded"] * 4 + ["in_progress"] * 2
CLOSINGS = [("resolved", "resolved")] * 6 + [
    ("closed", "no_response"),
    ("closed", "not_factual"),
    ("closed", "out_of_jurisdiction"),
    ("closed", "duplicate"),
]
BATCH = 5_000  # tickets per transaction


class ReporterRow(NamedTuple):
    channel: str
    sender_id: str
    display_name: str
    contact: str
    created_at: datetime


class HistoryTicket(NamedTuple):
    number: str
    status: str
    resolution: str | None
    channel: str
    account: str
    reporter_id: int
    summary: str
    created_at: datetime
    last_activity_at: datetime
    message_count: int
    category: str | None
    opd: str | None
    verified_at: datetime | None
    answered: bool
    verify_due_at: datetime | None
    clarification_due_at: datetime | None
    opd_due_at: datetime | None
    due_at: datetime | None
    closed_at: datetime | None
    flags: dict[str, Any]
    open_key: str | None


class HistoryMessage(NamedTuple):
    ticket_id: int
    direction: str
    channel: str
    account: str
    external_id: str
    sender_id: str | None
    author: str | None
    text: str
    sent_at: datetime
    received_at: datetime
    raw_event_id: int | None
    references: tuple[str, ...] = ()  # stored as a JSON list
    forwarded: bool = False


def _sender(channel: str, n: int) -> tuple[str, str]:
    if channel in ("whatsapp", "telegram"):
        number = f"628{12 + n % 40}{n:08d}"
        return number, f"+{number}"
    handle = f"warga{n}"
    if channel == "email":
        return f"{handle}@gmail.com", f"{handle}@gmail.com"
    return f"{10**15 + n}", f"@{handle}"


def phone_of(reporter_index: int) -> str:
    """The contact the generator gave WhatsApp reporter number `reporter_index` (0-based)."""
    return _sender("whatsapp", reporter_index)[1]


class History:
    """Writes `count` tickets ending at `end`, deterministically from `seed`."""

    def __init__(
        self, engine: Engine, count: int, end: datetime, categories: list[tuple[str, str]]
    ) -> None:
        self.engine = engine
        self.count = count
        self.end = end
        self.start = end - timedelta(days=3652)
        self.categories = categories  # (code, opd)
        self.rng = random.Random(20)
        self.channels = list(CHANNELS)
        self.weights = list(CHANNELS.values())
        self.reporters: dict[str, list[int]] = {c: [] for c in CHANNELS}
        self.serials: dict[int, int] = {}
        self.senders: dict[int, str] = {}

    def write(self) -> None:
        self._write_reporters(max(1, self.count * 2 // 3))
        open_from = self.count - max(40, min(2_000, self.count // 10))
        open_picks = set(self.rng.sample(range(open_from, self.count), min(400, self.count // 20)))
        for first in range(0, self.count, BATCH):
            numbers = range(first, min(first + BATCH, self.count))
            with self.engine.begin() as conn:
                self._write_batch(conn, numbers, open_picks)
        with self.engine.begin() as conn:
            for year, last in self.serials.items():
                conn.execute(
                    TicketCounter.__table__.insert().values(key=f"LBP-{year}", last=last)  # type: ignore[attr-defined]
                )

    def _write_reporters(self, count: int) -> None:
        insert = BulkInsert(Reporter.__table__, ReporterRow)  # type: ignore[arg-type]
        for first in range(0, count, 50_000):
            rows = []
            for n in range(first, min(first + 50_000, count)):
                channel = self.rng.choices(self.channels, self.weights)[0]
                sender, contact = _sender(channel, n)
                name = f"{self.rng.choice(NAMES)}"
                rows.append(ReporterRow(channel, sender, name, contact, self.start))
            with self.engine.begin() as conn:
                ids = insert.ids(conn, rows)
            for row, reporter_id in zip(rows, ids, strict=True):
                self.reporters[row.channel].append(reporter_id)
                self.senders[reporter_id] = row.sender_id

    def _moment(self, n: int) -> datetime:
        # More reports each year: the share of time grows like the square root of the rank.
        fraction = ((n + self.rng.random()) / self.count) ** 0.8
        return self.start + (self.end - self.start) * fraction

    def _write_batch(self, conn: Any, numbers: range, open_picks: set[int]) -> None:
        tickets, plans = [], []
        for n in numbers:
            ticket, plan = self._ticket(n, n in open_picks)
            tickets.append(ticket)
            plans.append(plan)
        ticket_ids = BulkInsert(Ticket.__table__, HistoryTicket).ids(conn, tickets)  # type: ignore[arg-type]
        raws, messages, events, photos = [], [], [], []
        for ticket_id, ticket, plan in zip(ticket_ids, tickets, plans, strict=True):
            for index, (direction, body, at) in enumerate(plan["messages"]):
                external = f"hist-{ticket.number}-{index}"
                if direction == "in":
                    raws.append(RawRow(ticket.channel, "pati", external, "message", {}, None, at))
                messages.append((ticket_id, direction, ticket, external, body, at))
            for at, actor, action, before, after, data in plan["events"]:
                events.append(EventRow(ticket_id, at, actor, action, before, after, data))
        raw_ids = iter(BulkInsert(RawEvent.__table__, RawRow).ids(conn, raws))  # type: ignore[arg-type]
        message_rows = [
            HistoryMessage(
                ticket_id, direction, ticket.channel, "pati", external,
                self.senders[ticket.reporter_id] if direction == "in" else None,
                None if direction == "in" else "operator1",
                body, at, at, next(raw_ids) if direction == "in" else None,
            )
            for ticket_id, direction, ticket, external, body, at in messages
        ]  # fmt: skip
        message_ids = BulkInsert(Message.__table__, HistoryMessage).ids(conn, message_rows)  # type: ignore[arg-type]
        for message_id, row in zip(message_ids, message_rows, strict=True):
            if (
                row.direction == "in"
                and row.external_id.endswith("-0")
                and self.rng.random() < 1 / 3
            ):
                photos.append(
                    AttachmentRow(
                        message_id, 0, "image", "image/jpeg", f"media-{message_id}", 84_000,
                        "foto.jpg", None, None, None, "pending",
                    )
                )  # fmt: skip
        BulkInsert(Attachment.__table__, AttachmentRow).ids(conn, photos)  # type: ignore[arg-type]
        BulkInsert(TicketEvent.__table__, EventRow).ids(conn, events)  # type: ignore[arg-type]

    def _ticket(self, n: int, is_open: bool) -> tuple[HistoryTicket, dict[str, Any]]:
        rng = self.rng
        created = self._moment(n)
        channel = rng.choices(self.channels, self.weights)[0]
        pool = self.reporters[channel] or self.reporters["whatsapp"]
        reporter_id = pool[rng.randrange(len(pool))]
        year = created.year
        self.serials[year] = self.serials.get(year, 0) + 1
        number = f"LBP-{year}-{self.serials[year]:05d}"
        report, _photo, place, _lat, _lon = rng.choice(REPORTS)
        village = rng.choice(VILLAGES)
        body = (
            f"{rng.choice(OPENERS)}{report} Lokasi Desa {village} RT {rng.randint(1, 12):02d}"
            f" RW {rng.randint(1, 8):02d}, Kec. {place or 'Pati'}."
        )
        category, opd = rng.choice(self.categories)
        minute = timedelta(minutes=1)
        verified = created + rng.randint(30, 3000) * minute
        messages = [("in", body, created), ("out", rng.choice(REPLIES), verified)]
        if rng.random() < 0.8:
            messages.append(
                ("in", rng.choice(FOLLOW_UPS), verified + rng.randint(10, 900) * minute)
            )
        if rng.random() < 0.2:
            messages.append(
                ("in", rng.choice(FOLLOW_UPS), verified + rng.randint(900, 3000) * minute)
            )
        events: list[tuple[Any, ...]] = [(created, "system", "created", None, "new", {})]
        status, resolution = "new", None
        values: dict[str, Any] = {
            "verified_at": None, "closed_at": None, "opd_due_at": None, "due_at": None,
            "clarification_due_at": None, "category": None, "opd": None,
        }  # fmt: skip
        if is_open:
            status = rng.choice(OPEN_STATUSES)
            if status == "clarifying":
                values["clarification_due_at"] = self.end + timedelta(days=rng.randint(-1, 2))
                events.append((verified, "operator1", "ask_clarification", "new", "clarifying", {}))
            elif status in ("forwarded", "in_progress"):
                values.update(verified_at=verified, category=category, opd=opd)
                values["opd_due_at"] = self.end + timedelta(days=rng.randint(-3, 7))
                values["due_at"] = self.end + timedelta(days=rng.randint(-2, 14))
                events.append((verified, "operator1", "verify", "new", "new", {}))
                events.append((verified, "operator1", "forward", "new", "forwarded", {"opd": opd}))
        else:
            status, resolution = rng.choice(CLOSINGS)
            closed = verified + rng.randint(600, 20_000) * minute
            values.update(verified_at=verified, category=category, opd=opd, closed_at=closed)
            events += [
                (verified, "operator1", "verify", "new", "new", {}),
                (verified, "operator1", "forward", "new", "forwarded", {"opd": opd}),
                (verified + 60 * minute, f"opd-{opd}", "start", "forwarded", "in_progress", {}),
                (closed - 60 * minute, f"opd-{opd}", "note", None, None, {}),
                (closed, "operator1", "close", "in_progress", status, {"resolution": resolution}),
            ]
        last = max(at for _d, _b, at in messages)
        ticket = HistoryTicket(
            number=number, status=status, resolution=resolution, channel=channel, account="pati",
            reporter_id=reporter_id, summary=body[:200], created_at=created,
            last_activity_at=max(last, values["closed_at"] or last), message_count=len(messages),
            answered=False, verify_due_at=created + timedelta(days=3), flags={},
            open_key=f"{channel}:{reporter_id}:{n}" if is_open else None, **values,
        )  # fmt: skip
        return ticket, {"messages": messages, "events": events}


def analyze(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
