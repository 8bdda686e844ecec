"""Status through the fake unit of work: the counts agree with the log's rules."""

from __future__ import annotations

from datetime import timedelta

from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import App
from flows.services import assembling, collecting, ingesting, status
from tests.factories import DEADLINE
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import NOW, ROUND, batch, mail


def test_status_counts_on_time_late_review_and_items(app: App, uow: FakeUnitOfWork) -> None:
    """Two on time, one late, one unknown sender for review; the parties' statuses as in the log."""
    collecting.store_batch(
        app,
        batch(
            mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"),
            mail("aeldre@kk.example", "Ingen bemærkninger.", message_id="1@aeldre"),
            mail("ukendt@privat.example", "Jeg er imod.", message_id="1@u"),
        ),
    )
    late = mail("info@redbarnet.example", "Vi kommer lidt sent.", message_id="1@rb")
    collecting.store_batch(
        app, Batch([FetchedMessage(late, DEADLINE + timedelta(hours=2), "test", "drop", "sent.eml")])
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    status.record_collected(app, ROUND.id, fetched=4)

    found = status.round_status(app, ROUND.id)
    assembly = assembling.build_assembly(app, ROUND.id)

    assert (found["responses"], found["late"], found["needs_review"]) == (2, 1, 1)
    assert (found["responses"], found["late"]) == (len(assembly.on_time), len(assembly.late))
    assert found["items"] == {"response": 4}
    assert {p["name"]: p["status"] for p in found["parties"]} == {
        p.name: p.status.value for p in assembly.parties
    }
    assert [p["invited"] for p in found["parties"]] == [True, True, True]
    assert found["outbox"] == {"invitation:sent": 3, "receipt:pending": 3}
    assert found["last_collect"] == NOW.isoformat()
