"""The chain's last link through the fake unit of work: each counted response to its stored file."""

from __future__ import annotations

from pathlib import Path

from flows.bootstrap import App
from flows.core.quality import check_chain
from flows.services import collecting, ingesting
from flows.services.assembling import build_assembly
from flows.services.chain import attach_chain
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import ROUND, batch, mail


def _assembled(app: App) -> list[str]:
    """The quality gate's chain problems for the round as it is stored now."""
    assembly = build_assembly(app, ROUND.id)
    attach_chain(app, ROUND.id, assembly)
    return check_chain(assembly.stored)


def test_each_counted_response_gets_its_raw_messages_sha256(app: App, uow: FakeUnitOfWork) -> None:
    collecting.store_batch(
        app,
        batch(
            mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"),
            mail("aeldre@kk.example", "Flere væresteder, tak.", message_id="1@aeldre"),
        ),
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    assembly = build_assembly(app, ROUND.id)

    attach_chain(app, ROUND.id, assembly)

    by_sender = {r["sender"]: uow.responses.raws[r["raw_message_id"]] for r in uow.responses.rows.values()}
    assert [(r.party, r.sha256) for r in assembly.responses] == [
        ("Handicaprådet", by_sender["hr@kk.example"]["sha256"]),
        ("Ældrerådet", by_sender["aeldre@kk.example"]["sha256"]),
    ]
    assert assembly.stored == ()  # intact links are not kept: a national round has a million
    assert check_chain(assembly.stored) == []


def test_the_chain_check_names_the_response_whose_file_is_gone(app: App, uow: FakeUnitOfWork) -> None:
    collecting.store_batch(
        app,
        batch(
            mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"),
            mail("aeldre@kk.example", "Flere væresteder, tak.", message_id="1@aeldre"),
        ),
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    second = next(r for r in uow.responses.rows.values() if r["sender"] == "aeldre@kk.example")
    Path(uow.responses.raws[second["raw_message_id"]]["path"]).unlink()

    assert _assembled(app) == ["den gemte råbesked mangler for høringssvar nr. 2"]


def test_the_chain_check_names_the_response_whose_file_was_changed(app: App, uow: FakeUnitOfWork) -> None:
    collecting.store_batch(app, batch(mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr")))
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    (raw,) = uow.responses.raws.values()
    Path(raw["path"]).write_bytes(b"changed after receipt")

    assert _assembled(app) == ["den gemte råbesked for høringssvar nr. 1 svarer ikke til sin SHA-256"]


def _stored_out_of_receipt_order(app: App, uow: FakeUnitOfWork) -> dict[str, dict[str, object]]:
    """Two batches ingested one after the other, the later one received earlier: the stored
    numbers (1 for hr, 2 for aeldre) run against the receipt order the outputs number by."""
    collecting.store_batch(
        app, batch(mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"), minutes=30)
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    collecting.store_batch(
        app, batch(mail("aeldre@kk.example", "Flere væresteder, tak.", message_id="1@aeldre"))
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    rows = {r["sender"]: r for r in uow.responses.rows.values()}
    assert (rows["hr@kk.example"]["number"], rows["aeldre@kk.example"]["number"]) == (1, 2)
    return {sender: uow.responses.raws[r["raw_message_id"]] for sender, r in rows.items()}


def test_a_line_gets_its_own_raw_message_when_stored_numbers_run_against_receipt_order(
    app: App, uow: FakeUnitOfWork
) -> None:
    raws = _stored_out_of_receipt_order(app, uow)
    assembly = build_assembly(app, ROUND.id)

    attach_chain(app, ROUND.id, assembly)

    assert [(r.number, r.party, r.sha256) for r in assembly.responses] == [
        (1, "Ældrerådet", raws["aeldre@kk.example"]["sha256"]),
        (2, "Handicaprådet", raws["hr@kk.example"]["sha256"]),
    ]


def test_a_gone_file_is_named_by_the_shown_number_when_stored_numbers_run_against_receipt_order(
    app: App, uow: FakeUnitOfWork
) -> None:
    raws = _stored_out_of_receipt_order(app, uow)
    Path(str(raws["aeldre@kk.example"]["path"])).unlink()  # stored nr. 2, shown as nr. 1

    assert _assembled(app) == ["den gemte råbesked mangler for høringssvar nr. 1"]
