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

    def kinds(self) -> list[str]:
        return [event.kind for event in self.added]
