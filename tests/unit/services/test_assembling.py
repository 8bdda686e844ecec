"""Assembling through the fake unit of work: party statuses, review lines, a staff decision."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from flows.adapters.excel_log import write_log
from flows.bootstrap import App
from flows.core.model import Decision, Kind, OutboxPurpose, OutboxState, PartyStatus
from flows.services import assembling, collecting, ingesting
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import ROUND, batch, mail


def _ingest(app: App, *messages: bytes) -> None:
    collecting.store_batch(app, batch(*messages))
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))


def test_each_party_gets_its_tick_list_status(app: App, uow: FakeUnitOfWork) -> None:
    """Remarks, no remarks, an invitation that bounced, and silence: the four statuses."""
    quiet = uow.rounds.add_party(ROUND.id, "Stille Forening", ("stille@forening.example",))
    uow.outbox.add_sent(ROUND.id, OutboxPurpose.INVITATION, "stille@forening.example", quiet.id)
    red_barnet = next(o for o in uow.outbox.rows.values() if o.item.address == "info@redbarnet.example")
    red_barnet.state = OutboxState.BOUNCED
    _ingest(
        app,
        mail("hr@kk.example", "Vi savner en tidsplan for indsatsen.", message_id="1@hr"),
        mail("aeldre@kk.example", "Ingen bemærkninger.", message_id="1@aeldre"),
    )

    assembly = assembling.build_assembly(app, ROUND.id)

    assert {p.name: p.status for p in assembly.parties} == {
        "Handicaprådet": PartyStatus.ANSWERED,
        "Ældrerådet": PartyStatus.NO_REMARKS,
        "Red Barnet": PartyStatus.UNDELIVERED,
        "Stille Forening": PartyStatus.NOT_ANSWERED,
    }
    assert [r.party for r in assembly.responses] == ["Handicaprådet", "Ældrerådet"]
    assert [m.number for m in assembly.remarks] == ["1.1"]


def test_staff_medtag_with_a_party_makes_an_unknown_sender_count(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    """`Medtag` and a party name in Til gennemsyn: the item is that party's counted response."""
    _ingest(app, mail("formand@privat.example", "Red Barnet støtter udkastet fuldt ud.", message_id="p@x"))
    before = assembling.build_assembly(app, ROUND.id)
    log = tmp_path / "log.xlsx"
    write_log(before, log)
    book = load_workbook(log)
    sheet = book["Til gennemsyn"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("Beslutning") + 1, "medtag ")
    sheet.cell(2, header.index("Høringspart") + 1, "Red Barnet")
    book.save(log)

    edits = assembling.absorb_staff_edits(app, ROUND.id, log)
    after = assembling.build_assembly(app, ROUND.id)

    assert (before.responses, len(before.review)) == ([], 1)
    assert list(edits.decisions) == [before.review[0].reference]
    (row,) = uow.responses.rows.values()
    assert (row["decision"], row["kind"]) == (Decision.INCLUDE, Kind.RESPONSE)
    assert [r.party for r in after.responses] == ["Red Barnet"]
    assert {p.name: p.status for p in after.parties}["Red Barnet"] == PartyStatus.ANSWERED
    assert [(m.number, m.party) for m in after.remarks] == [("1.1", "Red Barnet")]
    assert [e.kind for e in uow.events.added if e.step == "assemble"] == ["staff_edits"]


def test_quarantined_messages_are_listed_for_review(app: App, uow: FakeUnitOfWork) -> None:
    """A message given up on appears in Til gennemsyn with why, so nothing is silently lost."""
    collecting.store_batch(app, batch(mail("hr@kk.example", "x", message_id="q@hr")))
    uow.responses.raws[1]["error"] = "ValueError: ulæselig"
    uow.responses.quarantine(1)

    review = assembling.build_assembly(app, ROUND.id).review

    assert [(r.reference, r.reason) for r in review] == [
        ("rå-1", "Beskeden kunne ikke behandles: ValueError: ulæselig")
    ]
