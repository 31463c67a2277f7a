"""Every text the staff pages show exists in Bahasa Indonesia and English, and dates read the
Indonesian way in the region's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from channels.base import AttachmentKind, DeliveryState
from inbox.i18n import long_time, short_time, texts, translate
from inbox.views import TEMPLATE_DIR
from store.users import ROLES
from triage.actions import CLARIFIABLE_FACTS
from triage.states import Action, Resolution, Status

LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""")
JAKARTA = ZoneInfo("Asia/Jakarta")


def test_every_text_has_both_languages() -> None:
    assert texts("id").keys() == texts("en").keys()
    for key, indonesian in texts("id").items():
        assert indonesian.strip() and texts("en")[key].strip(), key


def test_every_key_a_template_names_exists() -> None:
    named = {
        key
        for template in TEMPLATE_DIR.glob("*.html")
        for key in LITERAL_KEY.findall(template.read_text(encoding="utf-8"))
    }
    assert named, "no t(...) calls found"
    assert sorted(named - texts("id").keys()) == []


def test_every_value_shown_through_a_prefix_has_a_text() -> None:
    families = {
        "status": [s.value for s in Status] + ["open", "all"],
        "resolution": [r.value for r in Resolution],
        "action": [a.value for a in Action] + ["opened", "remind", "merged_from"],
        "delivery": [d.value for d in DeliveryState],
        "kind": [k.value for k in AttachmentKind],
        "role": list(ROLES),
        "missing": list(CLARIFIABLE_FACTS),
    }
    known = texts("id")
    named = [f"{prefix}.{value}" for prefix, values in families.items() for value in values]
    absent = [key for key in named if key not in known]
    assert absent == []


def test_texts_fall_back_to_indonesian_and_fill_placeholders() -> None:
    assert translate("queue.total", "id", n=3) == "3 laporan"
    assert translate("queue.total", "en", n=3) == "3 reports"
    assert translate("queue.total", "fr", n=3) == "3 laporan"


def test_dates_read_the_indonesian_way_in_the_region_time_zone() -> None:
    moment = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert short_time(moment, JAKARTA, "id") == "23 Nov 2026 09.30 WIB"
    assert short_time(moment, JAKARTA, "en") == "23 Nov 2026 09:30 WIB"
    assert short_time(datetime(2026, 8, 17, 3, 0, tzinfo=UTC), JAKARTA, "id") == (
        "17 Agu 2026 10.00 WIB"
    )
    assert long_time(moment, JAKARTA, "id") == "Senin, 23 November 2026 pukul 09.30 WIB"
    assert long_time(moment, ZoneInfo("Asia/Makassar"), "id") == (
        "Senin, 23 November 2026 pukul 10.30 WITA"
    )
    assert short_time(None, JAKARTA, "id") == ""
