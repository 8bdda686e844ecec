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
    assert [(s.recorded, s.found) for s in assembly.stored] == [
        (r.sha256, r.sha256) for r in assembly.responses
    ]
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
