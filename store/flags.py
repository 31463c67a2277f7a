"""What `tickets.flags` holds: triage's hints for operators and the sweeps' markers, kept apart.

Both live in the one JSON column as flat keys (rows written before these models read as they
are); each model reads only its own keys and writes only the keys it was given, so triage's
assessment, intake's mentions and a sweep's markers never overwrite one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict

EscalationKind = Literal["opd_overdue", "overall_overdue", "verify_overdue"]


class _Flags(BaseModel):
    # Frozen: a change is a new model merged into the stored JSON (`merged`), never an edit.
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def read(cls, stored: Mapping[str, Any] | None) -> Self:
        """This model's keys of a ticket's stored flags; the other model's keys are left out."""
        return cls.model_validate(stored or {})

    def stored(self) -> dict[str, Any]:
        """The keys this model was given, as JSON: what `merged` writes."""
        return self.model_dump(mode="json", exclude_unset=True)


class SuggestedCategory(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: str
    opd: str | None = None
    score: float
    matched: list[str] = []  # the category keywords that hit
    learned: list[str] = []  # the words that weighed most in the model learned from operators


class PlaceEvidence(BaseModel):
    """Words of a report that say where, and what triage read them as (triage/jurisdiction.py)."""

    model_config = ConfigDict(frozen=True)

    words: str  # as written: "ds. Kajen", "Jl. Sudirman", "rt 03 rw 02"
    place: str = ""  # "Desa Kajen, Kecamatan Margoyoso, Kabupaten Pati"; "" for other clues
    side: Literal["inside", "outside", "location"]


class TicketFlags(_Flags):
    """What triage tells an operator about a report: assessment hints and related tickets."""

    # The assessment (triage/assess.py), all written at once after intake commits.
    suggestions: list[SuggestedCategory] = []  # best category first, each with its OPD
    out_of_jurisdiction: bool = False
    jurisdiction_reason: str | None = None
    places_inside: list[str] = []
    places_outside: list[str] = []
    place_evidence: list[PlaceEvidence] = []  # the words behind the two lists and the location
    duplicate_of: str | None = None  # the open ticket this one likely repeats
    duplicate_score: float | None = None
    missing: list[str] = []  # "location", "photo"
    # Intake's threading (triage/intake_batch.py).
    mentions: list[str] = []  # numbers of other tickets the reporter quoted or replied to in public
    follows_ticket_id: int | None = None  # the reporter's closed ticket this one follows
    # Reported in public (a comment, a mention, a tweet): Kanal sends nothing unasked there.
    public: bool = False

    @classmethod
    def of_threading(
        cls, follows_ticket_id: int | None, mentions: list[str], public: bool = False
    ) -> TicketFlags:
        """Intake's flags on a new ticket: only those it has a value for are stored."""
        if follows_ticket_id is None and not mentions and not public:
            return _NONE  # most new tickets: spares the intake a validation each
        given = TicketFlags(follows_ticket_id=follows_ticket_id, mentions=mentions, public=public)
        return cls.model_validate(given.model_dump(exclude_defaults=True))


_NONE = TicketFlags()


class AnswerFile(BaseModel):
    """A file of the OPD's answer, kept under the data directory (store/answer_files.py)."""

    model_config = ConfigDict(frozen=True)

    path: str  # relative to the data directory
    name: str  # as the reporter sees it
    mime_type: str
    kind: str  # "image" or "document"
    size: int
    sha256: str


class OpdAnswer(_Flags):
    """The OPD's answer to the reporter (triage/actions.py), until and after it is sent."""

    opd_answer: str | None = None
    opd_answer_files: list[AnswerFile] = []  # go out with the answer
    opd_answer_by: str | None = None  # the OPD account (or operator) who wrote it
    opd_answer_at: str | None = None
    opd_answer_sent: bool = False  # sent at once ("direct") or with the resolve ("review")


class Satisfaction(_Flags):
    """The reporter's answer to the check-back after a resolve (triage/checkback.py)."""

    checkback_fixed: bool | None = None  # None: only rated
    checkback_rating: int | None = None  # 1-5
    checkback_at: str | None = None


class SweepMarkers(_Flags):
    """What the sweeps did once per due time and must not do again (triage/sweeps.py)."""

    reminded_for: str | None = None  # the clarification due time a reminder went out for
    escalated_opd_overdue: str | None = None  # each: the due time whose passing was escalated
    escalated_overall_overdue: str | None = None
    escalated_verify_overdue: str | None = None

    def escalated(self, kind: EscalationKind) -> str | None:
        return getattr(self, f"escalated_{kind}")

    @classmethod
    def escalation(cls, kind: EscalationKind, due: str) -> SweepMarkers:
        return cls.model_validate({f"escalated_{kind}": due})


def merged(stored: Mapping[str, Any] | None, change: _Flags) -> dict[str, Any]:
    """A ticket's stored flags with `change`'s keys written over them and the rest kept."""
    return {**(stored or {}), **change.stored()}
