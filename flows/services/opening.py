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
from enum import StrEnum
from pathlib import Path
from typing import Any

from flows.adapters.round_file import load_round_file
from flows.bootstrap import App
from flows.core.danish import deadline_text, short_datetime
from flows.core.errors import OpenRefusedError
from flows.core.model import DEFAULT_RETENTION, NoteLayout, Round, RoundSpec
from flows.services.placing import read_round_sections

__all__ = ["OpenOutcome", "OpenRefusedError", "OpenReport", "open_round", "spec_digest"]


class OpenOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class OpenReport:
    round_id: str
    outcome: OpenOutcome
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
    with app.uow() as uow:
        stored = uow.rounds.find(spec.id)
        if stored is not None and uow.rounds.digest(spec.id) == digest:
            return OpenReport(spec.id, OpenOutcome.UNCHANGED, len(spec.parties), False)
        passed = spec.deadline <= now
        if not force:
            _refuse_unless_forced(spec, stored, passed, now)
        moved = stored is not None and stored.deadline != spec.deadline
        outcome = OpenOutcome.CREATED if stored is None else OpenOutcome.UPDATED
        uow.rounds.save(spec, digest, at=now)
        sections = read_round_sections(uow.sections, spec.id, spec.source_dir, spec.documents)
        uow.events.add(
            spec.id,
            "open",
            outcome.value,
            file=str(path),
            deadline=spec.deadline.isoformat(),
            forced=force and (passed or (stored is not None and stored.closed_at is not None)),
            sections=sections,
        )
    return OpenReport(spec.id, outcome, len(spec.parties), moved, deadline_passed=passed)


def _refuse_unless_forced(spec: RoundSpec, stored: Round | None, passed: bool, now: datetime) -> None:
    if stored is not None and stored.closed_at is not None:
        raise OpenRefusedError(
            f"høringen {spec.id!r} blev lukket {short_datetime(stored.closed_at)}; rundefilen er ændret, "
            "men en lukket høring ændres kun med --force"
        )
    if passed:
        raise OpenRefusedError(
            f"fristen for {spec.id!r} ({deadline_text(spec.deadline)}) er allerede overskredet "
            f"(klokken er {short_datetime(now)}); ret 'deadline', eller brug --force for at åbne alligevel"
        )
