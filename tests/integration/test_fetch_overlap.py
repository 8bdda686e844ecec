"""Fetching overlapped with processing (services.overlap), on SQLite and on a real PostgreSQL.

A batch is handed to processing only once its raw rows are committed (seen from another
connection), processing starts while the fetch is still storing, and every stored message is
handed exactly once: the earlier run's waiting message first.
"""

from __future__ import annotations

import threading
from email.message import EmailMessage

from sqlalchemy import create_engine, func, select

from flows.adapters.db.tables import RawMessageRow
from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import App
from flows.core.model import RawState
from flows.services import collecting
from flows.services.overlap import fetch_and_process

MESSAGES = 23
FETCH_BATCH = 5
PROCESS_BATCH = 5


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"part{n}@example.org"
    msg["To"] = "hoering@kk.example"
    msg["Subject"] = f"Svar {n}"
    msg["Message-ID"] = f"<m{n}@example.org>"
    msg.set_content(f"Tekst nummer {n}")
    return msg.as_bytes()


def fill_maildir(app: App) -> None:
    new = app.settings.resolved_data_dir / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    for n in range(MESSAGES):
        (new / f"{1760950000 + n}.m{n}.mx:2,").write_bytes(message(n))
    for sub in ("cur", "tmp"):
        (new.parent / sub).mkdir(exist_ok=True)


def test_batches_are_processed_while_fetching_and_only_once_committed(any_db_app: App) -> None:
    app = any_db_app
    app.settings.imap_batch = FETCH_BATCH
    # A message an earlier collect stored and did not get to process.
    earlier = FetchedMessage(message(999), None, "test", "drop", "earlier.eml")
    assert collecting.store_batch(app, Batch([earlier])) == 1
    fill_maildir(app)
    # Another connection sees only what is committed.
    observer = create_engine(app.settings.resolved_database_url)
    handed: list[list[int]] = []
    stored_when_first_handed: list[int] = []

    def process(ids: list[int]) -> int:
        with observer.connect() as conn:
            states = dict(
                conn.execute(
                    select(RawMessageRow.id, RawMessageRow.state).where(RawMessageRow.id.in_(ids))
                ).all()
            )
            if not handed:
                stored_when_first_handed.append(
                    int(conn.execute(select(func.count()).select_from(RawMessageRow)).scalar_one())
                )
        assert states == dict.fromkeys(ids, RawState.STORED.value), "handed before its row was committed"
        handed.append(list(ids))
        return len(ids)

    try:
        report, results = fetch_and_process(app, process, PROCESS_BATCH, ahead=1)
    finally:
        observer.dispose()

    assert (report.fetched, report.stored) == (MESSAGES, MESSAGES)
    flat = [i for ids in handed for i in ids]
    with app.db.transaction() as session:
        every = list(session.scalars(select(RawMessageRow.id).order_by(RawMessageRow.id)))
    assert sorted(flat) == every and len(flat) == len(set(flat)) == MESSAGES + 1
    assert flat[0] == every[0]  # the earlier run's message goes first
    assert all(len(ids) <= PROCESS_BATCH for ids in handed) and sum(results) == MESSAGES + 1
    # With one stored fetch batch allowed to wait, the fetch cannot have run far ahead: processing
    # began while messages were still unstored (fetch-then-process would have stored all first).
    assert stored_when_first_handed[0] < MESSAGES + 1
    assert not [t for t in threading.enumerate() if t.name == "hoering-fetch"]


def test_a_second_run_finds_nothing_to_fetch_or_process(any_db_app: App) -> None:
    """A rerun after a complete run: nothing new is stored, nothing is handed twice."""
    app = any_db_app
    fill_maildir(app)
    first: list[int] = []

    def mark(ids: list[int]) -> None:
        first.extend(ids)
        with app.uow() as uow:
            uow.responses.mark_processed([{"id": i, "round_id": None, "message_id": None} for i in ids])

    fetch_and_process(app, mark, PROCESS_BATCH)
    again: list[int] = []
    report, _ = fetch_and_process(app, again.extend, PROCESS_BATCH)
    assert len(first) == MESSAGES and again == [] and report.stored == 0
