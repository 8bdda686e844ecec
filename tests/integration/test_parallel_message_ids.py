"""Two batches processed at the same moment on PostgreSQL catch a shared Message-ID.

Before the fix, a batch looked for earlier responses with the same Message-ID before it took the
round's row lock (the numbering takes it): two parallel batches could both look, both find
nothing, and both count the copy. The test makes that moment certain rather than likely: a third
transaction holds the round's row while both batches start, and lets go only once both wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from flows.adapters.db.tables import ResponseRow
from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import App, bootstrap
from flows.core.model import Kind
from flows.services import ingesting
from flows.services.collecting import pending_raw_ids, store_batch
from flows.settings import Settings
from tests.conftest import postgres_url
from tests.support.databases import fresh_database
from tests.support.raw_store import ROUND, add_round, fetched

MESSAGE_ID = "<same-reply-1@forening.example>"


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[App]:
    base = postgres_url()
    if base is None:
        pytest.skip("HOERING_TEST_PG_URL is unset: run the suite with `make test`, which starts PostgreSQL")
    with fresh_database(base) as url:
        assert url is not None
        app = bootstrap(Settings(data_dir=tmp_path / "var", database_url=url, parse_workers=0))
        yield app
        app.db.dispose()


def copy(uid: int) -> FetchedMessage:
    """The same reply as delivered twice: one Message-ID, one text, different bytes (Received)."""
    data = (
        f"Received: from relay{uid}.example by mx.kk.example; Mon, 20 Oct 2025 10:0{uid}:00 +0000\r\n"
        "From: svar@forening.example\r\nTo: h@kk.example\r\nSubject: SV: Høring\r\n"
        f"Message-ID: {MESSAGE_ID}\r\nDate: Mon, 20 Oct 2025 10:00:00 +0000\r\n\r\n"
        "Vi bakker op om strategien.\r\n"
    ).encode()
    return fetched(data, uid, datetime(2025, 10, 20, 10, uid, tzinfo=UTC))


def waiting_on_locks(app: App) -> int:
    with app.db.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


def test_parallel_batches_count_a_shared_message_id_once(pg_app: App) -> None:
    add_round(pg_app)
    assert store_batch(pg_app, Batch([copy(1), copy(2)])) == 2
    first, second = pending_raw_ids(pg_app)
    errors: list[BaseException] = []

    def run(raw_id: int) -> None:
        try:
            ingesting.process_batch(pg_app, ROUND, [raw_id])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    blocker = pg_app.db.engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("SELECT id FROM rounds WHERE id = :id FOR UPDATE"), {"id": ROUND})
    threads = [threading.Thread(target=run, args=(raw_id,)) for raw_id in (first, second)]
    for thread in threads:
        thread.start()
    give_up = time.monotonic() + 120
    while waiting_on_locks(pg_app) < 2:  # both batches wait for the round: they are side by side
        assert time.monotonic() < give_up, "the two batches never both waited for the round"
        assert all(thread.is_alive() for thread in threads), errors
        time.sleep(0.05)
    transaction.commit()
    blocker.close()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    with pg_app.db.transaction() as session:
        rows = session.execute(
            select(ResponseRow.kind, ResponseRow.number, ResponseRow.duplicate_of, ResponseRow.id)
            .where(ResponseRow.message_id == MESSAGE_ID.strip("<>"))
            .order_by(ResponseRow.number)
        ).all()
    kinds = [row.kind for row in rows]
    assert sorted(kinds) == sorted([Kind.RESPONSE.value, Kind.DUPLICATE.value]), rows
    original = next(row for row in rows if row.kind == Kind.RESPONSE.value)
    copy_row = next(row for row in rows if row.kind == Kind.DUPLICATE.value)
    assert copy_row.duplicate_of == original.id
    assert sorted(row.number for row in rows) == [1, 2]
