"""Learning from the operators: labelled examples from the audit trail, the scheduled retrain,
and the stored model as each process reads it.

Every ticket whose category an operator verified, that was forwarded to an OPD or rejected
with a reason, or that came in from an SP4N-LAPOR! export with its labels, is one example: its
first report text with the last such label; the retrain learns from the latest
`[triage] learn_examples` of them. It runs as a scheduled job (runtime.py),
never while a request waits, and writes the models into `learned_models`, where every process
finds them; `ModelCache` reloads them when a newer one is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from store.db import Database
from store.models import LearnedModel, Message, TicketEvent
from triage.blend import REJECTED, BlendedSuggester, LearnedModels
from triage.config import CategoryConfig
from triage.learner import TextModel
from triage.suggest import Suggester

MODEL_NAME = "suggestions"
IMPORTED = "lapor_import"  # the audit event of a ticket imported from an SP4N-LAPOR! export
_LABELLING = ("verify", "forward", "reject", IMPORTED)
LATEST_EXAMPLES = 20_000  # tickets learned from: ten years of Pati, months of a province
_CHUNK = 500  # tickets read at once
EVENTS = TicketEvent.__table__
MESSAGES = Message.__table__
MODELS = LearnedModel.__table__


def labelled_examples(
    conn: Connection, latest: int = LATEST_EXAMPLES
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(text, category or "reject:<reason>") and (text, OPD) pairs, one per labelled ticket,
    for the `latest` tickets labelled last, each with its last label of either kind.

    Ten years of decisions are never held at once, and the newest teach best (OPDs and
    categories change): the audit trail is streamed newest first only until that many tickets
    are found, then their own labelling events are read, a few hundred tickets at a time."""
    tickets = _latest_labelled(conn, latest)
    categories: dict[int, str] = {}
    opds: dict[int, str] = {}
    for start in range(0, len(tickets), _CHUNK):
        rows = conn.execute(
            select(EVENTS.c.ticket_id, EVENTS.c.action, EVENTS.c.data)
            .where(
                EVENTS.c.ticket_id.in_(tickets[start : start + _CHUNK]),
                EVENTS.c.action.in_(_LABELLING),
            )
            .order_by(EVENTS.c.id)
        )
        for ticket_id, action, data in rows:  # oldest first: the last label stays
            data = _dict(data)
            if action in ("verify", IMPORTED) and data.get("category"):
                categories[ticket_id] = data["category"]
            if action == "reject" and data.get("resolution"):
                categories[ticket_id] = REJECTED + data["resolution"]
            if action in ("forward", IMPORTED) and data.get("opd"):
                opds[ticket_id] = data["opd"]
    texts = _first_texts(conn, sorted(set(categories) | set(opds)))
    return (
        [(texts[t], label) for t, label in sorted(categories.items()) if texts.get(t)],
        [(texts[t], label) for t, label in sorted(opds.items()) if texts.get(t)],
    )


def _latest_labelled(conn: Connection, latest: int) -> list[int]:
    """The ids of the `latest` tickets with a labelling event, by their newest such event."""
    found: dict[int, None] = {}
    streamed = conn.execution_options(stream_results=True, max_row_buffer=1000)
    with streamed.execute(
        select(EVENTS.c.ticket_id)
        .where(EVENTS.c.action.in_(_LABELLING))
        .order_by(EVENTS.c.id.desc())
    ) as rows:
        for (ticket_id,) in rows:
            found[ticket_id] = None
            if len(found) >= latest:
                break
    return sorted(found)


def train(conn: Connection, latest: int = LATEST_EXAMPLES) -> LearnedModels:
    by_category, by_opd = labelled_examples(conn, latest)
    return LearnedModels(TextModel.train(by_category), TextModel.train(by_opd))


def retrain(db: Database, now: datetime, latest: int = LATEST_EXAMPLES) -> int:
    """Train from the `latest` labelled tickets and store the models; the number of examples."""
    with db.engine.connect() as conn:
        models = train(conn, latest)
    payload = {"category": models.category.as_json(), "opd": models.opd.as_json()}
    examples = models.category.size + models.opd.size
    with db.write() as session:
        row = session.get(LearnedModel, MODEL_NAME)
        if row is None:
            row = LearnedModel(name=MODEL_NAME, trained_at=now)
        row.generation += 1
        row.trained_at, row.examples, row.payload = now, examples, payload
        session.add(row)
    return examples


def load(db: Database) -> tuple[int, LearnedModels]:
    """The stored models and their generation (0: none stored yet)."""
    with db.read() as session:
        row = session.get(LearnedModel, MODEL_NAME)
    if row is None:
        return 0, LearnedModels.empty()
    payload = row.payload
    return row.generation, LearnedModels(
        TextModel.from_json(payload.get("category", {})),
        TextModel.from_json(payload.get("opd", {})),
    )


class ModelCache:
    """The stored models as one process uses them: their time is looked up once per
    assessment batch (one primary-key read, small beside the batch's own queries), and they are
    reloaded only when the retrain stored newer ones."""

    def __init__(self, db: Database, categories: Sequence[CategoryConfig]) -> None:
        self.db = db
        self.categories = list(categories)
        self._generation = 0
        self._models = LearnedModels.empty()
        self._suggesters: dict[int, BlendedSuggester] = {}

    def suggester(self, keywords: Suggester) -> BlendedSuggester:
        """The keyword suggester with the current models mixed in."""
        self._refresh()
        key = id(keywords)
        cached = self._suggesters.get(key)
        if cached is None or cached.models is not self._models:
            cached = BlendedSuggester(keywords, self.categories, self._models)
            self._suggesters[key] = cached
        return cached

    def _refresh(self) -> None:
        with self.db.engine.connect() as conn:
            generation = conn.execute(
                select(MODELS.c.generation).where(MODELS.c.name == MODEL_NAME)
            ).scalar()
        if generation is not None and generation != self._generation:
            self._generation, self._models = load(self.db)


def _first_texts(conn: Connection, ticket_ids: list[int]) -> dict[int, str]:
    """Each ticket's first inbound message, subject and text, as triage reads a report."""
    texts: dict[int, str] = {}
    for start in range(0, len(ticket_ids), _CHUNK):
        chunk = ticket_ids[start : start + _CHUNK]
        rows = conn.execute(
            select(MESSAGES.c.ticket_id, MESSAGES.c.subject, MESSAGES.c.text)
            .where(MESSAGES.c.ticket_id.in_(chunk), MESSAGES.c.direction == "in")
            .order_by(MESSAGES.c.ticket_id, MESSAGES.c.sent_at, MESSAGES.c.id)
        )
        for ticket_id, subject, body in rows:
            if ticket_id not in texts:
                texts[ticket_id] = " ".join(filter(None, [subject, body]))
    return texts


def _dict(data: Any) -> dict[str, Any]:
    if isinstance(data, str):  # SQLite may hand JSON back as text
        data = json.loads(data)
    return data if isinstance(data, dict) else {}
