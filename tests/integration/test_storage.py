"""Storage on SQLite and on a real PostgreSQL: the same migrations, the same unique keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from flows.adapters.db.engine import migrate
from flows.adapters.db.tables import EventRow, OutboxRow, RawMessageRow, RoundRow
from flows.adapters.ports import Batch, Cursor
from flows.bootstrap import App
from flows.core.model import OutboxPurpose
from flows.core.outbox import OutboxItem
from flows.services.collecting import store_batch
from flows.services.outbox import enqueue
from tests.support.raw_store import add_round, fetched

TABLES = {
    "rounds", "parties", "outbox", "raw_messages", "imap_cursors", "responses", "attachments",
    "remarks", "staff_notes", "events", "alembic_version",
}  # fmt: skip


def test_migrations_create_every_table_and_rerun_as_no_op(any_db_app: App) -> None:
    """Upgrading twice is a no-op and leaves the full schema."""
    migrate(any_db_app.db.engine)

    assert set(inspect(any_db_app.db.engine).get_table_names()) >= TABLES


def test_times_come_back_aware_and_equal(any_db_app: App) -> None:
    """A Copenhagen-time deadline is stored as UTC and read back as the same moment."""
    add_round(any_db_app)
    with any_db_app.db.transaction() as session:
        row = session.get(RoundRow, "r1")
        assert row is not None
        row.deadline = datetime(2025, 10, 24, 23, 59, 59, tzinfo=timezone(timedelta(hours=2)))
    with any_db_app.db.transaction() as session:
        row = session.get(RoundRow, "r1")
        assert row is not None
        assert row.deadline == datetime(2025, 10, 24, 21, 59, 59, tzinfo=UTC)
        assert row.deadline.tzinfo is not None


def test_raw_store_is_idempotent_by_sha256_and_uid(any_db_app: App) -> None:
    """Storing the same batch twice, or the same bytes under a new UID, adds nothing."""
    batch = Batch(
        [fetched(b"Subject: a\r\n\r\nx", 1), fetched(b"Subject: b\r\n\r\ny", 2)], Cursor("INBOX", 7, 2)
    )

    assert store_batch(any_db_app, batch) == 2
    assert store_batch(any_db_app, batch) == 0
    assert store_batch(any_db_app, Batch([fetched(b"Subject: a\r\n\r\nx", 9)])) == 0
    with any_db_app.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RawMessageRow)) == 2
        stored = session.scalars(select(RawMessageRow)).all()
    assert all(Path(r.path).read_bytes() for r in stored)


def test_outbox_rows_are_unique_per_recipient_and_purpose(any_db_app: App) -> None:
    """Queuing the same invitation twice keeps one row with one Message-ID."""
    add_round(any_db_app)
    item = OutboxItem(
        "r1",
        OutboxPurpose.INVITATION,
        "a@x.example",
        "invitation:r1:1:a@x.example",
        "invitation",
        {"party": "A"},
    )
    with any_db_app.uow() as uow:
        assert enqueue(uow, any_db_app, [item]) == 1
    with any_db_app.uow() as uow:
        assert enqueue(uow, any_db_app, [item]) == 0
    with any_db_app.db.transaction() as session:
        rows = session.scalars(select(OutboxRow)).all()
    assert len(rows) == 1
    assert rows[0].message_id.startswith("<")


def test_events_record_the_run(any_db_app: App) -> None:
    """An event carries its round, step, kind and run id."""
    any_db_app.run_id = "run-42"
    with any_db_app.uow() as uow:
        uow.events.add("r1", "collect", "stored", count=3)
    with any_db_app.db.transaction() as session:
        event = session.scalars(select(EventRow)).one()
    assert (event.run_id, event.step, event.detail["count"]) == ("run-42", "collect", 3)


def set_naive_deadline(app: App) -> None:
    with app.db.transaction() as session:
        row = session.get(RoundRow, "r1")
        assert row is not None
        row.deadline = datetime(2025, 1, 1)


def test_naive_datetimes_are_refused(app: App) -> None:
    """A naive datetime never reaches the database."""
    add_round(app)

    with pytest.raises(Exception, match="naive"):
        set_naive_deadline(app)


def test_migrations_match_the_models(any_db_app: App) -> None:
    """The Alembic migrations build exactly the schema the models describe (nothing to autogenerate)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from flows.adapters.db.tables import Base

    with any_db_app.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert diff == []
