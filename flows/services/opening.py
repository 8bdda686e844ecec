"""Open a round from its file, or update it when its id exists (idempotent).

What ``open`` refuses without ``force``, and why:

* a new or changed round whose deadline has already passed by the clock (``--now``): its
  invitations would ask for answers "senest" on a day gone by;
* any change to a round that is closed: its responses were gathered and the round was closed on
  them; a change (a new party, a moved deadline) would not reopen it, only make the record
  disagree with what happened.

An unchanged file is always a no-op, before or after the deadline, closed or not, so re-running
``open`` on the same file never fails. With ``force`` the change is recorded, the event says so,
and a closed round stays closed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import PartyRow, RoundRow
from flows.adapters.round_file import load_round_file
from flows.bootstrap import App
from flows.core.danish import deadline_text, short_datetime
from flows.core.errors import OpenRefusedError
from flows.core.model import DEFAULT_RETENTION, NoteLayout, RoundSpec
from flows.services.placing import read_round_sections


@dataclass(frozen=True)
class OpenReport:
    round_id: str
    outcome: str  # "created" | "updated" | "unchanged"
    parties: int
    deadline_moved: bool
    deadline_passed: bool = False  # opened or changed with --force although the deadline has passed


# Keys added to the round file after rounds were opened: left out of the digest while they hold
# their defaults, so a round opened before them stays "unchanged" when its file is opened again.
_LATER_DEFAULTS: dict[str, Any] = {
    "note_layout": NoteLayout.BY_PARTY,
    "kle": None,
    "facet": None,
    "retention": DEFAULT_RETENTION,
}


def spec_digest(spec: RoundSpec) -> str:
    fields = asdict(spec)
    for key, default in _LATER_DEFAULTS.items():
        if fields.get(key) == default:
            del fields[key]
    for party in fields["parties"]:
        if not party["person"]:
            del party["person"]
    payload = json.dumps(fields, default=str, sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()


def open_round(app: App, path: Path, *, force: bool = False) -> OpenReport:
    """Validate first (a bad file changes nothing), then create or update in one transaction."""
    spec = load_round_file(path)
    digest = spec_digest(spec)
    now = app.now()
    with app.db.transaction() as session:
        row = session.get(RoundRow, spec.id)
        if row is not None and row.spec_sha256 == digest:
            return OpenReport(spec.id, "unchanged", len(spec.parties), False)
        passed = spec.deadline <= now
        if not force:
            _refuse_unless_forced(spec, row, passed, now)
        moved = row is not None and row.deadline != spec.deadline
        outcome = "created" if row is None else "updated"
        row = row or RoundRow(id=spec.id)
        _apply(row, spec, digest, app)
        session.add(row)
        session.flush()
        _sync_parties(session, spec)
        sections = read_round_sections(session, spec.id, spec.source_dir, spec.documents)
        app.event(
            session,
            spec.id,
            "open",
            outcome,
            file=str(path),
            deadline=spec.deadline.isoformat(),
            forced=force and (passed or row.closed_at is not None),
            sections=sections,
        )
    return OpenReport(spec.id, outcome, len(spec.parties), moved, deadline_passed=passed)


def _refuse_unless_forced(spec: RoundSpec, row: RoundRow | None, passed: bool, now: datetime) -> None:
    if row is not None and row.closed_at is not None:
        raise OpenRefusedError(
            f"høringen {spec.id!r} blev lukket {short_datetime(row.closed_at)}; rundefilen er ændret, "
            "men en lukket høring ændres kun med --force"
        )
    if passed:
        raise OpenRefusedError(
            f"fristen for {spec.id!r} ({deadline_text(spec.deadline)}) er allerede overskredet "
            f"(klokken er {short_datetime(now)}); ret 'deadline', eller brug --force for at åbne alligevel"
        )


def _apply(row: RoundRow, spec: RoundSpec, digest: str, app: App) -> None:
    row.title, row.subject = spec.title, spec.subject
    row.administration, row.consulted_body = spec.administration, spec.consulted_body
    row.opens, row.deadline = spec.opens, spec.deadline
    row.reply_to, row.contact = spec.reply_to, spec.contact
    row.documents, row.reminders = list(spec.documents), list(spec.reminders)
    row.late_policy, row.source_dir = spec.late_policy.value, spec.source_dir
    row.note_layout, row.kle, row.facet = spec.note_layout.value, spec.kle, spec.facet
    row.retention = spec.retention
    row.spec_sha256 = digest
    row.updated_at = app.now()


def _sync_parties(session: Session, spec: RoundSpec) -> None:
    """Add new parties, update changed ones, deactivate dropped ones (never delete history)."""
    existing = {p.name: p for p in session.scalars(select(PartyRow).where(PartyRow.round_id == spec.id))}
    for position, party in enumerate(spec.parties):
        row = existing.pop(party.name, None) or PartyRow(round_id=spec.id, name=party.name)
        row.emails, row.domains = list(party.emails), list(party.domains)
        row.position, row.active, row.person = position, True, party.person
        session.add(row)
    for row in existing.values():
        row.active = False
