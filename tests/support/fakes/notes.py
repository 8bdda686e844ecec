"""In-memory NoteRepository (see flows.adapters.db.notes)."""

from __future__ import annotations

from datetime import datetime

from flows.core.assembly import StaffNote


class FakeNoteRepository:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], tuple[StaffNote, datetime]] = {}

    def save(self, round_id: str, remark_number: str, note: StaffNote, now: datetime) -> None:
        self.kept[(round_id, remark_number)] = (note, now)

    def for_round(self, round_id: str) -> dict[str, StaffNote]:
        return {number: note for (rid, number), (note, _at) in self.kept.items() if rid == round_id}
