"""Everything triage can tell an operator about a new report, in one pure call."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from triage.blend import BlendedSuggester
from triage.completeness import missing_facts
from triage.config import CategoryConfig, JurisdictionConfig, TriageConfig
from triage.duplicates import (
    Candidates,
    DuplicateMatch,
    DuplicateRules,
    OpenTicket,
    ReportFacts,
    find_duplicate,
)
from triage.jurisdiction import Jurisdiction, JurisdictionCheck
from triage.suggest import Suggester, Suggestion


@dataclass(frozen=True, slots=True)
class ReportHints:
    suggestions: list[Suggestion]  # best category first; [] when no keyword hits
    jurisdiction: JurisdictionCheck
    duplicate: DuplicateMatch | None
    missing: tuple[str, ...]  # "location", "photo"


class Hinter:
    """Built once at start-up from config; `hints` runs per new report."""

    def __init__(
        self,
        suggester: Suggester | BlendedSuggester,
        jurisdiction: Jurisdiction,
        duplicate_rules: DuplicateRules | None = None,
        suggestion_limit: int = 3,
    ) -> None:
        self.suggester = suggester
        self.jurisdiction = jurisdiction
        self.duplicate_rules = duplicate_rules or DuplicateRules()
        self.suggestion_limit = suggestion_limit

    @classmethod
    def from_config(
        cls,
        triage: TriageConfig,
        categories: Sequence[CategoryConfig],
        jurisdiction: JurisdictionConfig,
        region: str,
        base: Path,
    ) -> Hinter:
        """`region` is the display name ("Kabupaten Pati"); `base` the config file's folder."""
        return cls(
            Suggester(categories),
            Jurisdiction.from_config(jurisdiction, region, base),
            DuplicateRules.from_config(triage),
            triage.suggestion_limit,
        )

    def with_suggester(self, suggester: Suggester | BlendedSuggester) -> Hinter:
        """This hinter with another suggester (the learned models mixed in: triage/blend.py)."""
        other = copy.copy(self)
        other.suggester = suggester
        return other

    def hints(
        self,
        report: ReportFacts,
        attachment_kinds: Iterable[str],
        open_tickets: Sequence[OpenTicket] | Candidates,
        locale: str = "id",
    ) -> ReportHints:
        """`open_tickets` are the candidates for duplicates (the caller leaves out the report's
        own ticket); `Candidates` readies them once for many reports."""
        place = self.jurisdiction.check(report.text, report.location, locale)
        return ReportHints(
            suggestions=self.suggester.suggest(report.text, self.suggestion_limit),
            jurisdiction=place,
            duplicate=find_duplicate(report, open_tickets, self.duplicate_rules),
            missing=missing_facts(
                location=report.location,
                attachment_kinds=attachment_kinds,
                place_named=place.located,
            ),
        )
