"""In-memory SectionRepository (see flows.adapters.db.sections): sections, remarks, placements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.adapters.db.sections import UnplacedRemark
from flows.core.placement import Basis, Placement
from flows.core.sections import Section, unique_labels


class FakeSectionRepository:
    """``remarks`` (per round) and ``noted`` (remark numbers staff wrote on) are set by a test."""

    def __init__(self) -> None:
        self.by_round: dict[str, list[Section]] = {}
        self.remarks: dict[str, list[UnplacedRemark]] = {}
        self.placed: dict[str, dict[str, Placement]] = {}
        self.noted: set[str] = set()

    def replace(self, round_id: str, sections: Sequence[Section]) -> bool:
        if self.by_round.get(round_id) == list(sections):
            return False
        self.by_round[round_id] = list(sections)
        # as the SQL: automatic placements go, staff's follow their section by its label
        by_label = dict(zip(unique_labels(sections), (s.position for s in sections), strict=True))
        kept: dict[str, Placement] = {}
        for number, p in self.placed.get(round_id, {}).items():
            if p.basis is not Basis.STAFF:
                continue
            if p.section is None:
                kept[number] = p
            elif p.evidence in by_label:
                kept[number] = Placement(by_label[p.evidence], p.basis, p.evidence)
        self.placed[round_id] = kept
        return True

    def load(self, round_id: str) -> list[Section]:
        return list(self.by_round.get(round_id, []))

    def placements(self, round_id: str) -> dict[str, Placement]:
        return dict(self.placed.get(round_id, {}))

    def unplaced_remarks(self, round_id: str) -> list[UnplacedRemark]:
        placed = self.placed.get(round_id, {})
        remarks = [r for r in self.remarks.get(round_id, []) if r.number not in placed]
        return sorted(remarks, key=lambda r: (r.response_id, r.position))

    def responses_with_staff_text(self, round_id: str, response_ids: set[int]) -> set[int]:
        return {
            r.response_id
            for r in self.remarks.get(round_id, [])
            if r.number in self.noted and r.response_id in response_ids
        }

    def remark_counts(self, round_id: str, response_ids: set[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        for r in self.remarks.get(round_id, []):
            if r.response_id in response_ids:
                counts[r.response_id] = counts.get(r.response_id, 0) + 1
        return counts

    def replace_remarks(self, round_id: str, response_id: int, rows: Sequence[UnplacedRemark]) -> None:
        others = [r for r in self.remarks.get(round_id, []) if r.response_id != response_id]
        self.remarks[round_id] = [*others, *rows]

    def save_placements(self, round_id: str, placed: dict[str, Placement], now: datetime) -> None:
        stored = self.placed.setdefault(round_id, {})
        clash = set(placed) & set(stored)
        assert not clash, f"placed twice (the SQL's primary key would refuse): {sorted(clash)}"
        stored.update(placed)

    def set_staff_choice(
        self, round_id: str, number: str, position: int | None, label: str, now: datetime
    ) -> None:
        self.placed.setdefault(round_id, {})[number] = Placement(position, Basis.STAFF, label)
