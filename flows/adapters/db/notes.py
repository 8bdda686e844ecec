"""What staff wrote in the log: replies, changes, decisions (one row per remark)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import StaffNoteRow
from flows.core.assembly import StaffNote


class NoteRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""

    def save(self, round_id: str, remark_number: str, note: StaffNote, now: datetime) -> None:
        """Keep what staff typed for one remark, replacing what was kept before."""
        ...

    def for_round(self, round_id: str) -> dict[str, StaffNote]:
        """Every kept note of the round, by remark number."""
        ...


class SqlNoteRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def save(self, round_id: str, remark_number: str, note: StaffNote, now: datetime) -> None:
        row = self._session.get(StaffNoteRow, (round_id, remark_number)) or StaffNoteRow(
            round_id=round_id, remark_number=remark_number
        )
        row.reply, row.change, row.gives_change = note.reply, note.change, note.gives_change
        row.updated_at = now
        self._session.add(row)

    def for_round(self, round_id: str) -> dict[str, StaffNote]:
        rows = self._session.scalars(select(StaffNoteRow).where(StaffNoteRow.round_id == round_id))
        return {n.remark_number: StaffNote(n.reply, n.change, n.gives_change) for n in rows}
