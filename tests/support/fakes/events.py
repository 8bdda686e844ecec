"""Events kept in a list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FakeEvent:
    round_id: str | None
    step: str
    kind: str
    at: datetime | None
    detail: dict[str, Any] = field(default_factory=dict)


class FakeEventRepository:
    def __init__(self) -> None:
        self.added: list[FakeEvent] = []

    def add(
        self,
        round_id: str | None,
        step: str,
        kind: str,
        *,
        recorded_at: datetime | None = None,
        **detail: Any,
    ) -> None:
        self.added.append(FakeEvent(round_id, step, kind, recorded_at, dict(detail)))

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            detail = dict(row.get("detail") or {})
            self.added.append(FakeEvent(row["round_id"], row["step"], row["kind"], row.get("at"), detail))

    def last_at(self, round_id: str, step: str, kind: str) -> datetime | None:
        times = [
            e.at
            for e in self.added
            if (e.round_id, e.step, e.kind) == (round_id, step, kind) and e.at is not None
        ]
        return max(times, default=None)

    def kinds(self) -> list[str]:
        return [event.kind for event in self.added]
