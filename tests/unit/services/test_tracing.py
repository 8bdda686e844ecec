"""Tracing through the fake unit of work: a remark number leads to its response and its stored file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from flows.bootstrap import App
from flows.services import collecting, ingesting
from flows.services.tracing import UnknownReferenceError, chain_lines, trace
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import ROUND, batch, mail


def _ingest(app: App, uow: FakeUnitOfWork, *messages: bytes) -> None:
    uow.rounds.rounds[ROUND.id] = ROUND  # trace reads the round through ``uow.rounds``
    collecting.store_batch(app, batch(*messages))
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))


def test_a_remark_number_leads_to_its_response_and_its_file_hashes_again(
    app: App, uow: FakeUnitOfWork
) -> None:
    _ingest(
        app,
        uow,
        mail("aeldre@kk.example", "Ingen bemærkninger.", message_id="1@aeldre"),
        mail("hr@kk.example", "Vi savner en tidsplan for indsatsen.", message_id="1@hr"),
    )
    raw = next(r for r in uow.responses.raws.values() if r["message_id"] == "1@hr")

    chain = trace(app, ROUND.id, "2.1")

    assert (chain.number, chain.party, chain.quote) == (
        2,
        "Handicaprådet",
        "Vi savner en tidsplan for indsatsen.",
    )
    assert chain.reference == f"{ROUND.id}-0002"
    assert chain.path == raw["path"]
    assert chain.sha256 == chain.found_sha256 == hashlib.sha256(Path(raw["path"]).read_bytes()).hexdigest()
    assert chain.intact
    assert "ark »Bemærkninger«" in chain.log and "(Nr. 2.1)" in chain.log
    assert chain.matched_by == "Handicaprådet, genkendt på afsenderadresse"


def test_a_stored_file_changed_since_receipt_is_shown_as_not_matching(app: App, uow: FakeUnitOfWork) -> None:
    _ingest(app, uow, mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"))
    (raw,) = uow.responses.raws.values()
    Path(raw["path"]).write_bytes(b"From: someone else\r\n\r\nanother text\r\n")

    chain = trace(app, ROUND.id, f"{ROUND.id}-0001")

    assert chain.sha256 == raw["sha256"]
    assert chain.found_sha256 not in (None, raw["sha256"])
    assert not chain.intact
    assert any(line.startswith("SHA-256:") and "PASSER IKKE" in line for line in chain_lines(chain))


def test_an_unknown_sender_is_traced_to_til_gennemsyn_not_the_note(app: App, uow: FakeUnitOfWork) -> None:
    _ingest(app, uow, mail("ukendt@andet.example", "Hvem er I?", message_id="1@ukendt"))

    chain = trace(app, ROUND.id, f"{ROUND.id}-0001")

    assert chain.note.startswith("Ikke i notatet: svaret er ikke talt med")
    assert chain.log == f"Høringslog, ark »Til gennemsyn«, række 2 ({ROUND.id}-0001)"
    assert chain.matched_by == "ikke genkendt som en høringspart"


def test_a_reference_the_round_does_not_have_is_refused_in_danish(app: App, uow: FakeUnitOfWork) -> None:
    _ingest(app, uow, mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"))

    with pytest.raises(UnknownReferenceError, match=r"har intet høringssvar '9\.1'"):
        trace(app, ROUND.id, "9.1")
