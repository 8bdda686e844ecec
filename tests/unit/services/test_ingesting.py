"""Ingesting through the fake unit of work: stored raw messages become responses, no database."""

from __future__ import annotations

from flows.bootstrap import App
from flows.core.model import Kind, OutboxPurpose, RawState
from flows.core.review import COLLISION_REASON
from flows.services import collecting, ingesting
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import ROUND, batch, mail


def _ingest(app: App, *messages: bytes) -> ingesting.ProcessReport:
    collecting.store_batch(app, batch(*messages))
    return ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))


def test_a_parsed_batch_becomes_numbered_matched_responses(app: App, uow: FakeUnitOfWork) -> None:
    """Each known party's reply is a counted response with its remark, a receipt and an event."""
    report = _ingest(
        app,
        mail("hr@kk.example", "Vi støtter forslaget, men savner en tidsplan.", message_id="1@hr"),
        mail("aeldre@kk.example", "Ældrerådet har ingen bemærkninger.", message_id="1@aeldre"),
    )

    rows = sorted(uow.responses.rows.values(), key=lambda r: r["number"])
    parties = uow.rounds.party_entries()
    assert (report.processed, report.responses, report.set_aside) == (2, 2, 0)
    assert [(r["reference"], r["kind"], parties[r["party_id"]].name) for r in rows] == [
        (f"{ROUND.id}-0001", Kind.RESPONSE, "Handicaprådet"),
        (f"{ROUND.id}-0002", Kind.RESPONSE, "Ældrerådet"),
    ]
    assert [r["no_remarks"] for r in rows] == [False, True]
    assert [(m["number"], m["text"]) for m in uow.responses.remark_rows] == [
        ("1.1", "Vi støtter forslaget, men savner en tidsplan.")
    ]
    assert {r["state"] for r in uow.responses.raws.values()} == {RawState.PROCESSED}
    assert [r.reference for r in uow.responses.counted(ROUND.id)] == [f"{ROUND.id}-0001", f"{ROUND.id}-0002"]
    receipts = [o.item.address for o in uow.outbox.of_purpose(OutboxPurpose.RECEIPT)]
    assert receipts == ["hr@kk.example", "aeldre@kk.example"]
    assert [e.kind for e in uow.events.added if "response" in e.detail] == [Kind.RESPONSE, Kind.RESPONSE]


def test_a_copy_under_the_same_message_id_is_a_linked_duplicate(app: App, uow: FakeUnitOfWork) -> None:
    """The same Message-ID and text again (a resend, a second mailbox) is kept, linked, not counted."""
    _ingest(app, mail("hr@kk.example", "Vi støtter forslaget.", message_id="same@hr"))
    _ingest(app, mail("hr@kk.example", "Vi  støtter\nforslaget. ", message_id="same@hr", subject="Fwd"))

    first, copy = sorted(uow.responses.rows.values(), key=lambda r: r["number"])
    assert (first["kind"], copy["kind"]) == (Kind.RESPONSE, Kind.DUPLICATE)
    assert copy["duplicate_of"] == first["id"]
    assert [r.id for r in uow.responses.counted(ROUND.id)] == [first["id"]]


def test_a_duplicate_inside_one_batch_links_to_the_row_written_beside_it(
    app: App, uow: FakeUnitOfWork
) -> None:
    """Both copies in one slice: the second points at the first's new id."""
    _ingest(
        app,
        mail("hr@kk.example", "Vi støtter forslaget.", message_id="twice@hr"),
        mail("hr@kk.example", "Vi støtter forslaget.", message_id="twice@hr", subject="Kopi"),
    )

    first, copy = sorted(uow.responses.rows.values(), key=lambda r: r["number"])
    assert copy["kind"] == Kind.DUPLICATE and copy["duplicate_of"] == first["id"]


def test_other_text_under_a_known_message_id_is_a_collision_kept_for_review(
    app: App, uow: FakeUnitOfWork
) -> None:
    """Same Message-ID, different body: both count as responses, the second is flagged."""
    _ingest(app, mail("hr@kk.example", "Første svar.", message_id="clash@hr"))
    _ingest(app, mail("hr@kk.example", "Et helt andet svar.", message_id="clash@hr"))

    second = max(uow.responses.rows.values(), key=lambda r: r["number"])
    assert second["kind"] == Kind.RESPONSE
    assert COLLISION_REASON in second["review_reason"]


def test_an_unknown_sender_is_listed_for_review_uncounted_and_unanswered(
    app: App, uow: FakeUnitOfWork
) -> None:
    """No party, no authenticated domain: kept with a reason, not counted, no receipt (backscatter)."""
    _ingest(app, mail("someone@elsewhere.example", "Jeg er imod.", message_id="u@x"))

    (row,) = uow.responses.rows.values()
    assert row["party_id"] is None
    assert row["review_reason"].startswith("Ukendt afsender: someone@elsewhere.example")
    assert list(uow.responses.counted(ROUND.id)) == []
    assert uow.outbox.of_purpose(OutboxPurpose.RECEIPT) == []


def test_a_message_that_keeps_failing_is_quarantined_after_max_attempts(
    app: App, uow: FakeUnitOfWork
) -> None:
    """Its stored file is gone: each run counts an attempt; the last one quarantines it, with an event."""
    collecting.store_batch(app, batch(mail("hr@kk.example", "tabt", message_id="gone@hr")))
    raw = uow.responses.raws[1]
    raw["path"] = raw["path"] + ".missing"

    reports = [ingesting.process_batch(app, ROUND.id, [1]) for _ in range(collecting.MAX_ATTEMPTS)]

    assert [r.quarantined for r in reports] == [0] * (collecting.MAX_ATTEMPTS - 1) + [1]
    assert raw["state"] == RawState.QUARANTINED and raw["attempts"] == collecting.MAX_ATTEMPTS
    assert uow.responses.rows == {}
    assert [e.kind for e in uow.events.added if e.step == "collect"][-1] == "quarantined"
    assert collecting.pending_raw_ids(app) == []
