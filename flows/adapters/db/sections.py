"""SQL for the draft's sections and the remarks' placements (``draft_sections``, ``remark_placements``).

``uow.sections`` (``SqlSectionRepository``); services never see the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import DraftSectionRow, RemarkPlacementRow, RemarkRow, StaffNoteRow
from flows.core.placement import Basis, Placement
from flows.core.sections import Section, unique_labels

_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class UnplacedRemark:
    response_id: int
    number: str
    position: int
    section: str  # the template's own column, or "Bilag: name"
    text: str
    proposal: str


class SectionRepository(Protocol):
    """The draft's sections and every remark's place in them."""

    def replace(self, round_id: str, sections: Sequence[Section]) -> bool:
        """Store the round's sections in the draft's order; False when they were unchanged.

        When they changed, automatic placements are dropped (made again) and staff's choices
        follow their section by its label; a choice whose section is gone is dropped."""
        ...

    def load(self, round_id: str) -> list[Section]: ...

    def placements(self, round_id: str) -> dict[str, Placement]:
        """Each placed remark's number to its placement."""
        ...

    def unplaced_remarks(self, round_id: str) -> list[UnplacedRemark]:
        """Every remark of the round without a placement, in order within its response."""
        ...

    def responses_with_staff_text(self, round_id: str, response_ids: set[int]) -> set[int]:
        """The responses (of ``response_ids``) whose remarks staff have written on."""
        ...

    def remark_counts(self, round_id: str, response_ids: set[int]) -> dict[int, int]:
        """How many remarks each of ``response_ids`` has."""
        ...

    def replace_remarks(self, round_id: str, response_id: int, rows: Sequence[UnplacedRemark]) -> None:
        """The response's remarks replaced by ``rows`` (a remark split into one per section)."""
        ...

    def save_placements(self, round_id: str, placed: dict[str, Placement], now: datetime) -> None:
        """Insert the placements of remarks not placed before."""
        ...

    def set_staff_choice(
        self, round_id: str, number: str, position: int | None, label: str, now: datetime
    ) -> None:
        """The section staff chose for a remark (``None``: general), kept by its label."""
        ...


class SqlSectionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def load(self, round_id: str) -> list[Section]:
        rows = self._session.scalars(
            select(DraftSectionRow)
            .where(DraftSectionRow.round_id == round_id)
            .order_by(DraftSectionRow.position)
        )
        return [Section(r.position, r.number, r.title, r.level, r.page, r.text, r.document) for r in rows]

    def replace(self, round_id: str, sections: Sequence[Section]) -> bool:
        """Store the sections; True when they changed (automatic placements are then made again)."""
        if self.load(round_id) == list(sections):
            return False
        self._session.execute(delete(DraftSectionRow).where(DraftSectionRow.round_id == round_id))
        self._session.execute(
            insert(DraftSectionRow),
            [
                {
                    "round_id": round_id,
                    "position": s.position,
                    "document": s.document,
                    "number": s.number,
                    "title": s.title,
                    "level": s.level,
                    "page": s.page,
                    "text": s.text,
                }
                for s in sections
            ],
        )
        self._session.execute(
            delete(RemarkPlacementRow).where(
                RemarkPlacementRow.round_id == round_id, RemarkPlacementRow.basis != Basis.STAFF.value
            )
        )
        # a choice staff made follows its section by name; one whose section is gone is placed anew
        by_label = dict(zip(unique_labels(sections), (s.position for s in sections), strict=True))
        staff = self._session.scalars(
            select(RemarkPlacementRow).where(RemarkPlacementRow.round_id == round_id)
        )
        for row in staff:
            if row.section_position is None:
                continue
            if row.evidence in by_label:
                row.section_position = by_label[row.evidence]
            else:
                self._session.delete(row)
        return True

    def placements(self, round_id: str) -> dict[str, Placement]:
        query = select(
            RemarkPlacementRow.remark_number,
            RemarkPlacementRow.section_position,
            RemarkPlacementRow.basis,
            RemarkPlacementRow.evidence,
        ).where(RemarkPlacementRow.round_id == round_id)
        return {
            number: Placement(position, Basis(basis), evidence)
            for number, position, basis, evidence in self._session.execute(
                query.execution_options(yield_per=_CHUNK)
            )
        }

    def unplaced_remarks(self, round_id: str) -> list[UnplacedRemark]:
        """Every remark of the round without a placement, in order within its response."""
        placed = select(RemarkPlacementRow.remark_number).where(RemarkPlacementRow.round_id == round_id)
        query = (
            select(
                RemarkRow.response_id,
                RemarkRow.number,
                RemarkRow.position,
                RemarkRow.section,
                RemarkRow.text,
                RemarkRow.proposal,
            )
            .where(RemarkRow.round_id == round_id, RemarkRow.number.not_in(placed))
            .order_by(RemarkRow.response_id, RemarkRow.position)
            .execution_options(yield_per=_CHUNK)
        )
        return [UnplacedRemark(*row) for row in self._session.execute(query)]

    def responses_with_staff_text(self, round_id: str, response_ids: set[int]) -> set[int]:
        """The responses (of ``response_ids``) whose remarks staff have written on: never renumbered."""
        noted = select(StaffNoteRow.remark_number).where(StaffNoteRow.round_id == round_id)
        query = select(RemarkRow.response_id).where(
            RemarkRow.round_id == round_id, RemarkRow.number.in_(noted)
        )
        return {r for r in self._session.scalars(query) if r in response_ids}

    def remark_counts(self, round_id: str, response_ids: set[int]) -> dict[int, int]:
        """How many remarks each of ``response_ids`` has."""
        query = (
            select(RemarkRow.response_id, func.count())
            .where(RemarkRow.round_id == round_id)
            .group_by(RemarkRow.response_id)
        )
        return {r: int(n) for r, n in self._session.execute(query) if r in response_ids}

    def replace_remarks(self, round_id: str, response_id: int, rows: Sequence[UnplacedRemark]) -> None:
        """The response's remarks replaced by ``rows`` (a remark split into one per section)."""
        self._session.execute(delete(RemarkRow).where(RemarkRow.response_id == response_id))
        self._session.execute(
            insert(RemarkRow),
            [
                {
                    "round_id": round_id,
                    "response_id": response_id,
                    "number": r.number,
                    "position": r.position,
                    "section": r.section,
                    "text": r.text,
                    "proposal": r.proposal,
                }
                for r in rows
            ],
        )

    def save_placements(self, round_id: str, placed: dict[str, Placement], now: datetime) -> None:
        rows = [
            {
                "round_id": round_id,
                "remark_number": number,
                "section_position": p.section,
                "basis": p.basis.value,
                "evidence": p.evidence[:400],
                "updated_at": now,
            }
            for number, p in placed.items()
        ]
        for start in range(0, len(rows), _CHUNK):
            self._session.execute(insert(RemarkPlacementRow), rows[start : start + _CHUNK])

    def set_staff_choice(
        self, round_id: str, number: str, position: int | None, label: str, now: datetime
    ) -> None:
        row = self._session.get(RemarkPlacementRow, (round_id, number)) or RemarkPlacementRow(
            round_id=round_id, remark_number=number
        )
        # the label chosen is kept, so the choice survives a new reading of the draft (replace_sections)
        row.section_position, row.basis, row.evidence, row.updated_at = (
            position,
            Basis.STAFF.value,
            label,
            now,
        )
        self._session.add(row)
