"""Every digest and alert template in both languages, rendered with values that reach every branch
(the day named or "yesterday", a chart or none, overdue tickets of both kinds and without an OPD,
long lists cut, names that need escaping), compared with the saved output in
tests/fixtures/notifier/. A deliberate change of wording or layout: rerun with
KANAL_UPDATE_SNAPSHOTS=1 and review the diff of the saved files."""

from __future__ import annotations

import html
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifier.digest import Digest
from notifier.render import render
from notifier.service import OPERATORS
from store.stats import OverdueTicket
from store.statuses import STATUSES
from texts.catalog import LOCALES, section

WIB = ZoneInfo("Asia/Jakarta")
SNAPSHOTS = Path(__file__).resolve().parent / "fixtures" / "notifier"
UPDATE = os.environ.get("KANAL_UPDATE_SNAPSHOTS") == "1"


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=WIB).astimezone(UTC)


def period(received: dict[str, int], **figures: Any) -> dict[str, Any]:
    by_status = dict.fromkeys(STATUSES, 0) | figures.pop("by_status", {})
    not_valid = figures.pop("not_valid", {})
    rejected = figures.pop("rejected", {})
    return {
        "received": {"total": sum(received.values()), "by_channel": received},
        "valid": figures.pop("valid", 0),
        "not_valid": {
            "total": sum(not_valid.values()),
            "by_reason": {"not_factual": 0, "no_response": 0, "spam": 0} | not_valid,
        },
        "rejected": {
            "total": sum(rejected.values()),
            "by_reason": {"out_of_jurisdiction": 0, "not_government_affairs": 0}
            | {"private_matter": 0}
            | rejected,
        },
        "by_status": by_status,
        "by_category": figures.pop("by_category", {}),
        "by_opd": figures.pop("by_opd", {}),
        "overdue_by_opd": {},
        "median_first_response_hours": figures.pop("first", None),
        "median_resolution_hours": figures.pop("resolution", None),
        "satisfaction": {
            "by_opd": figures.pop("outcomes", {}),
            "by_category": figures.pop("category_outcomes", {}),
        },
    }


def busy_digest() -> dict[str, Any]:
    """The morning digest of a busy day: every list filled, one OPD with more than ten late."""
    day = period(
        {"email": 2, "lapor": 1, "telegram": 3, "whatsapp": 7},
        valid=9,
        not_valid={"spam": 2, "no_response": 1},
        rejected={"private_matter": 1},
        by_status={"new": 3, "forwarded": 4, "in_progress": 2, "resolved": 2, "closed": 2},
        by_category={"jalan": 6, "pju": 2, "unknown_code": 1},
        by_opd={"pupr": 6, "dishub": 2},
        first=1.25,
        resolution=26.25,
        outcomes={
            "pupr": {
                "resolved": 4,
                "reopened": 1,
                "reopened_share": 0.25,
                "rated": 3,
                "mean_rating": 3.67,
            },
            "unknown_opd": {
                "resolved": 1,
                "reopened": 0,
                "reopened_share": 0.0,
                "rated": 0,
                "mean_rating": None,
            },
        },
        # Seven categories: Telegram lists five.
        category_outcomes={
            code: {
                "resolved": n,
                "reopened": n // 3,
                "reopened_share": round((n // 3) / n, 3),
                "rated": n - 1,
                "mean_rating": 4.5 if n % 2 else None,
            }
            for code, n in [("jalan", 9), ("pju", 1)] + [(f"kategori_{i}", i) for i in range(4, 9)]
        },
    )
    month = period(
        {"whatsapp": 40, "x": 5},
        valid=30,
        not_valid={"not_factual": 3},
        rejected={"out_of_jurisdiction": 2, "not_government_affairs": 1},
        by_status={"clarifying": 5, "forwarded": 10, "resolved": 20, "closed": 10},
        by_category={"jalan": 30},
        by_opd={"pupr": 30, "dishub": 5},
        first=0.5,
        resolution=1234.5,
    )
    late = [
        OverdueTicket(f"LBP-2026-{n:05d}", "pupr", "opd", wib(20, 9), 10.0 + n) for n in range(12)
    ]
    late += [
        OverdueTicket("LBP-2026-00100", "dishub", "overall", wib(18, 14, 5), 70.3),
        OverdueTicket("LBP-2026-00101", None, "opd", wib(22, 7), 3.0),
        OverdueTicket("LBP-2026-00102", "pupr", "verify", wib(23, 9), 21.5),
    ]
    digest = Digest(
        day=date(2026, 11, 23),
        as_of=wib(24, 6, 30),
        tz=WIB,
        day_figures=day,
        month_figures=month,
        overdue=late,
        closing_today=[("LBP-2026-00007", wib(24, 15, 45)), ("LBP-2026-00009", wib(24, 23))],
        daily_received=list(range(23)),
    )
    return digest_values(digest) | {"chart_src": "cid:chart"}


def quiet_digest() -> dict[str, Any]:
    """A named day (the command line's) with nothing in it: every "none" branch."""
    digest = Digest(
        day=date(2026, 11, 2),
        as_of=wib(24, 6, 30),
        tz=WIB,
        day_figures=period({}),
        month_figures=period({}),
        daily_received=[0, 0],
    )
    return digest_values(digest) | {"chart_src": None}


def digest_values(digest: Digest) -> dict[str, Any]:
    """What notifier.service gives the digest templates."""
    per_opd: dict[str, list[Any]] = {}
    for ticket in digest.overdue:
        group = OPERATORS if ticket.kind == "verify" else (ticket.opd or "")
        per_opd.setdefault(group, []).append(ticket)
    return {
        "d": digest,
        "region": "Kabupaten Pati",
        "opd_names": {"pupr": "Dinas PU & Penataan Ruang", "dishub": "Dinas <Perhubungan>"},
        "category_names": {"jalan": "Jalan & jembatan", "pju": "Penerangan jalan"},
        "overdue_by_opd": sorted(per_opd.items(), key=lambda g: (g[0] != OPERATORS, g[0])),
        "OPERATORS": OPERATORS,
    }


def escalation(kind: str, count: int) -> dict[str, Any]:
    tickets = [
        {"number": f"LBP-2026-{n:05d}", "due_at": wib(23, 10, n % 60), "hours_late": 26.25 + n}
        for n in range(1, count + 1)
    ]
    return {"kind": kind, "opd_name": "Dinas PU & Penataan Ruang", "tickets": tickets}


def health(state: str, channel: str, reason: str | None) -> dict[str, Any]:
    return {
        "channel": channel,
        "account": "lapor@patikab.go.id <utama>",
        "state": state,
        "since": wib(23, 21, 5),
        "reason": reason,
    }


CASES: dict[str, tuple[tuple[str, ...], Any]] = {
    "digest_busy": (("txt", "html", "tg"), busy_digest),
    "digest_quiet": (("txt", "html", "tg"), quiet_digest),
    "escalation_opd": (("txt", "tg"), lambda: escalation("opd_overdue", 3)),
    "escalation_overall": (("txt", "tg"), lambda: escalation("overall_overdue", 1)),
    "escalation_long": (("txt", "tg"), lambda: escalation("opd_overdue", 45)),
    "health_down": (("txt", "tg"), lambda: health("down", "email", "IMAP login: <refused> & gone")),
    "health_down_no_reason": (("txt", "tg"), lambda: health("down", "unknown_channel", None)),
    "health_ok": (("txt", "tg"), lambda: health("ok", "whatsapp", None)),
}
RENDERINGS = [
    (case, fmt, locale)
    for case, (formats, _) in CASES.items()
    for fmt in formats
    for locale in LOCALES
]


@pytest.mark.parametrize(("case", "fmt", "locale"), RENDERINGS)
def test_templates_render_as_saved(case: str, fmt: str, locale: str) -> None:
    values = CASES[case][1]
    template = f"{case.split('_')[0]}.{fmt}.j2"
    rendered = render(template, locale, WIB, **values())
    output = f"subject: {rendered.subject}\n---\n{rendered.body}"
    saved = SNAPSHOTS / locale / f"{case}.{fmt}"
    if UPDATE:
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(output, encoding="utf-8")
    assert output == saved.read_text(encoding="utf-8")


def test_every_sentence_of_a_message_is_used_by_its_templates() -> None:
    """A catalog text no template reads is a text a translator keeps up for nothing."""
    templates = Path(render.__code__.co_filename).parent / "templates"
    source = "".join(path.read_text(encoding="utf-8") for path in templates.glob("*.j2"))
    unused = [
        key
        for key in section("notifier", "id")
        if key.split(".")[0] in {"digest", "escalation", "health", "more"}
        and f'"{key}"' not in source
        and f"L.{key}" not in source
    ]
    assert unused == []


# Telegram's HTML parse mode knows these tags only, and a message holds 4,096 characters at
# most once they are parsed (Bot API, "Formatting options" and sendMessage).
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
TELEGRAM_TAGS |= {"span", "tg-spoiler", "blockquote", "tg-emoji"}


@pytest.mark.parametrize(("case", "locale"), [(c, loc) for c in CASES for loc in LOCALES])
def test_telegram_renderings_keep_to_telegrams_html(case: str, locale: str) -> None:
    values = CASES[case][1]
    body = render(f"{case.split('_')[0]}.tg.j2", locale, WIB, **values()).body
    tags = {m.group(1) for m in re.finditer(r"</?([a-z-]+)", body)}
    assert tags <= TELEGRAM_TAGS
    shown = html.unescape(re.sub(r"<[^>]+>", "", body))
    assert "<" not in re.sub(r"</?[a-z-]+[^>]*>", "", body)  # every other < is escaped
    assert len(shown) <= 4096
