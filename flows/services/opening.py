"""Open a round from its file, or update it when its id exists (idempotent)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import PartyRow, RoundRow
from flows.adapters.round_file import load_round_file
from flows.bootstrap import App
from flows.core.model import RoundSpec


@dataclass(frozen=True)
class OpenReport:
    round_id: str
    outcome: str  # "created" | "updated" | "unchanged"
    parties: int
    deadline_moved: bool


def spec_digest(spec: RoundSpec) -> str:
    payload = json.dumps(asdict(spec), default=str, sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()


def open_round(app: App, path: Path) -> OpenReport:
    """Validate first (a bad file changes nothing), then create or update in one transaction."""
    spec = load_round_file(path)
    digest = spec_digest(spec)
    with app.db.transaction() as session:
        row = session.get(RoundRow, spec.id)
        if row is not None and row.spec_sha256 == digest:
            return OpenReport(spec.id, "unchanged", len(spec.parties), False)
        moved = row is not None and row.deadline != spec.deadline
        outcome = "created" if row is None else "updated"
        row = row or RoundRow(id=spec.id)
        _apply(row, spec, digest, app)
        session.add(row)
        session.flush()
        _sync_parties(session, spec)
        app.event(session, spec.id, "open", outcome, file=str(path), deadline=spec.deadline.isoformat())
    return OpenReport(spec.id, outcome, len(spec.parties), moved)


def _apply(row: RoundRow, spec: RoundSpec, digest: str, app: App) -> None:
    row.title, row.subject = spec.title, spec.subject
    row.administration, row.consulted_body = spec.administration, spec.consulted_body
    row.opens, row.deadline = spec.opens, spec.deadline
    row.reply_to, row.contact = spec.reply_to, spec.contact
    row.documents, row.reminders = list(spec.documents), list(spec.reminders)
    row.late_policy, row.source_dir = spec.late_policy.value, spec.source_dir
    row.spec_sha256 = digest
    row.updated_at = app.now()


def _sync_parties(session: Session, spec: RoundSpec) -> None:
    """Add new parties, update changed ones, deactivate dropped ones (never delete history)."""
    existing = {p.name: p for p in session.scalars(select(PartyRow).where(PartyRow.round_id == spec.id))}
    for position, party in enumerate(spec.parties):
        row = existing.pop(party.name, None) or PartyRow(round_id=spec.id, name=party.name)
        row.emails, row.domains = list(party.emails), list(party.domains)
        row.position, row.active = position, True
        session.add(row)
    for row in existing.values():
        row.active = False
