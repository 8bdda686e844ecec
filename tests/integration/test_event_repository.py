"""The event repository on a real database: a detail may be named like the event's own time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from flows.adapters.db.session import Database
from flows.adapters.db.tables import EventRow
from flows.adapters.db.unit_of_work import SqlUnitOfWork


def test_a_detail_named_at_is_kept_beside_the_events_own_time(tmp_path: Path) -> None:
    """A scheduled run's time is recorded as the detail ``at`` (schedules.py); the event's own
    time is ``recorded_at``. When the two shared a name, every served round's open failed."""
    db = Database(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    when = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with SqlUnitOfWork(db, "serve") as uow:
        uow.events.add(None, "schedule", "scheduled", run="collect", at="2026-12-02T08:00:00+00:00")
        uow.events.add(None, "collect", "collected", recorded_at=when, stored=3)
    with db.transaction() as session:
        rows = session.scalars(select(EventRow).order_by(EventRow.id)).all()
        assert rows[0].detail == {"run": "collect", "at": "2026-12-02T08:00:00+00:00"}
        assert rows[0].run_id == "serve"
        assert rows[1].at.replace(tzinfo=UTC) == when
        assert rows[1].detail == {"stored": 3}
    db.dispose()
