"""Collecting through the fake unit of work: raw bytes stored once, cursor kept, oldest first."""

from __future__ import annotations

from pathlib import Path

from flows.adapters.ports import Batch, Cursor
from flows.bootstrap import App
from flows.core.model import RawState
from flows.services import collecting
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import batch, mail


def test_a_batch_is_stored_raw_once_and_a_rerun_stores_nothing(app: App, uow: FakeUnitOfWork) -> None:
    """The bytes land in the raw store and a row each; the same bytes again insert nothing."""
    messages = batch(
        mail("hr@kk.example", "Vi har ingen bemærkninger.", message_id="a@x"),
        mail("x@y.example", "Hej", message_id="b@x"),
    )

    first = collecting.store_batch(app, messages)
    again = collecting.store_batch(app, batch(*(m.data for m in messages.messages)))

    assert (first, again) == (2, 0)
    rows = list(uow.responses.raws.values())
    assert [r["state"] for r in rows] == [RawState.STORED, RawState.STORED]
    assert all(Path(r["path"]).read_bytes() == m.data for r, m in zip(rows, messages.messages, strict=True))
    assert [(e.step, e.kind, e.detail) for e in uow.events.added] == [("collect", "stored", {"count": 2})]


def test_the_cursor_is_saved_with_its_batch_and_never_moves_back(app: App, uow: FakeUnitOfWork) -> None:
    """An IMAP cursor is committed with the rows; an older UID for the same UIDVALIDITY is ignored."""
    collecting.store_batch(app, Batch([], Cursor("INBOX", 7, 40)))
    collecting.store_batch(app, Batch([], Cursor("INBOX", 7, 12)))

    assert uow.responses.cursor("INBOX") == Cursor("INBOX", 7, 40)


def test_pending_ids_are_oldest_first_and_skip_given_up_messages(app: App, uow: FakeUnitOfWork) -> None:
    """What waits is handed out by receipt time; a message that failed MAX_ATTEMPTS times is not."""
    collecting.store_batch(app, batch(mail("a@x.example", "sent later", message_id="late@x"), minutes=30))
    collecting.store_batch(app, batch(mail("b@x.example", "sent earlier", message_id="early@x")))
    uow.responses.raws[1]["attempts"] = collecting.MAX_ATTEMPTS

    assert collecting.pending_raw_ids(app) == [2]
    uow.responses.raws[1]["attempts"] = 0
    assert collecting.pending_raw_ids(app) == [2, 1]
    assert collecting.pending_raw_ids(app, limit=1) == [2]
