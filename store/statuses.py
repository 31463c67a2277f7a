"""The ticket states as `tickets.status` stores them, and the groups queries filter by.

The names are stored values, so store owns them and triage/states.py, which owns the legal
transitions between them, takes them from here (store may not import triage).
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    NEW = "new"
    CLARIFYING = "clarifying"  # waiting for the reporter, with a due time
    FORWARDED = "forwarded"  # with an OPD, its answer due
    IN_PROGRESS = "in_progress"  # the OPD has started
    ANSWERED = "answered"  # the OPD answered ("Dijawab OPD"): the operators publish and resolve
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATES = frozenset(
    {Status.NEW, Status.CLARIFYING, Status.FORWARDED, Status.IN_PROGRESS, Status.ANSWERED}
)
FINAL_STATES = frozenset({Status.RESOLVED, Status.CLOSED})
OPD_STATES = frozenset({Status.FORWARDED, Status.IN_PROGRESS})  # with an OPD, its answer due
OPERATOR_STATES = frozenset({Status.NEW, Status.CLARIFYING})  # with the operators, never an OPD


def values(states: frozenset[Status]) -> tuple[str, ...]:
    """`states` as plain strings in the states' own order, as queries and menus take them."""
    return tuple(s.value for s in Status if s in states)


STATUSES = tuple(s.value for s in Status)
OPEN = values(OPEN_STATES)
WITH_OPD = values(OPD_STATES)
WITH_OPERATORS = values(OPERATOR_STATES)
