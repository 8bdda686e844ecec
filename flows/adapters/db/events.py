"""Events: what happened, when, by which run (the round's own history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import EventRow


class EventRepository(Protocol):
    def add(
        self,
        round_id: str | None,
        step: str,
        kind: str,
        *,
        recorded_at: datetime | None = None,
        **detail: Any,
    ) -> None:
        """Record one event; ``detail`` holds counts and ids, never personal data (a detail may be
        named ``at``, as a scheduled run's time is: the event's own time is ``recorded_at``)."""
        ...

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Many events in one statement (ingest writes one per message): each row holds
        ``round_id``, ``run_id``, ``step``, ``kind``, ``at`` and ``detail``."""
        ...

    def last_at(self, round_id: str, step: str, kind: str) -> datetime | None:
        """When the round last had an event of this step and kind."""
        ...


class SqlEventRepository:
    def __init__(self, session: Session, run_id: str) -> None:
        self._session = session
        self._run_id = run_id

    def add(
        self,
        round_id: str | None,
        step: str,
        kind: str,
        *,
        recorded_at: datetime | None = None,
        **detail: Any,
    ) -> None:
        row = EventRow(round_id=round_id, run_id=self._run_id, step=step, kind=kind, detail=detail)
        if recorded_at is not None:
            row.at = recorded_at
        self._session.add(row)

    def add_many(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(insert(EventRow), rows)

    def last_at(self, round_id: str, step: str, kind: str) -> datetime | None:
        return self._session.scalar(
            select(func.max(EventRow.at)).where(
                EventRow.round_id == round_id, EventRow.step == step, EventRow.kind == kind
            )
        )
