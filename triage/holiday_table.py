"""Indonesia's holidays as the `holidays` package gives them, kept as a small table.

`holidays` loads all of its countries to give one (300 modules, about 16 MB of every server's
memory). The working-day clocks need only Indonesia's dates and names, so they are written
once into holiday_table.json, for the years around today, per category and language, and read
from there; a year outside the table still asks the package itself (triage/sla.py). A test
checks that the table is what the pinned package says; after changing the pin, write it again:

    python -m triage.holiday_table
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("holiday_table.json")
FIRST_YEAR, LAST_YEAR = 2010, 2045
CATEGORIES = ("public", "government")  # what [triage] holiday_categories may name
LANGUAGES = ("id", "en_US")
_JOIN = "; "  # how `holidays` names two holidays on one day


class HolidayTable:
    """Holiday names by category, language and ISO date, for FIRST_YEAR to LAST_YEAR."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.source: str = values["source"]
        self.first_year, self.last_year = values["years"]
        self._days: dict[str, dict[str, dict[str, str]]] = values["days"]

    def covers(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def name(self, day: date, categories: tuple[str, ...], language: str) -> str | None:
        """The holiday's name on `day` in any of `categories`, or None for none."""
        key = day.isoformat()
        names = [n for c in categories if (n := self._days[c][language].get(key)) is not None]
        return _JOIN.join(names) if names else None


@cache
def table() -> HolidayTable:
    return HolidayTable(json.loads(TABLE.read_text(encoding="utf-8")))


def computed(first: int = FIRST_YEAR, last: int = LAST_YEAR) -> dict[str, Any]:
    """The table as the installed `holidays` package computes it (imports it: tools, tests)."""
    import holidays

    days = {
        category: {
            language: {
                day.isoformat(): str(name)
                for day, name in sorted(
                    holidays.country_holidays(
                        "ID",
                        categories=(category,),
                        language=language,
                        years=range(first, last + 1),
                    ).items()
                )
            }
            for language in LANGUAGES
        }
        for category in CATEGORIES
    }
    return {"source": f"holidays {holidays.__version__}", "years": [first, last], "days": days}


if __name__ == "__main__":
    TABLE.write_text(json.dumps(computed(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {TABLE}")
