"""In-memory SectionRepository (see flows.adapters.db.sections)."""

from __future__ import annotations

from collections.abc import Sequence

from flows.core.sections import Section


class FakeSectionRepository:
    def __init__(self) -> None:
        self.by_round: dict[str, list[Section]] = {}

    def replace(self, round_id: str, sections: Sequence[Section]) -> bool:
        if self.by_round.get(round_id) == list(sections):
            return False
        self.by_round[round_id] = list(sections)
        return True

    def load(self, round_id: str) -> list[Section]:
        return list(self.by_round.get(round_id, []))
