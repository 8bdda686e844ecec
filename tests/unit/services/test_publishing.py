"""The public version through the fake unit of work: staff's `Vis` and their own hidden texts are
kept across reruns and read back into the redaction, and the gate removes a stale public version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from flows.core.assembly import Assembly
from flows.core.errors import PublicLeakError
from flows.core.outputs import bundle_paths
from flows.core.public_version import Sender
from flows.core.redaction import Publish
from flows.services.publishing import absorb_public_edits, prepare, public_paths, write_public
from tests.factories import make_round, party, remark, response
from tests.unit.services.conftest import World

ROUND_ID = make_round().id
PHONE, STREET = "22 33 44 55", "Skovvej 12"


def assembly(title: str | None = None) -> Assembly:
    club = response(1, "Boldklubben", f"Vi støtter. Ring {PHONE}, eller kom forbi på {STREET}.")
    rnd = make_round() if title is None else replace(make_round(), title=title)
    return Assembly(
        rnd, datetime(2025, 10, 30, tzinfo=UTC), [party("Boldklubben")], [club], [remark(club)], [], {}
    )


def log_with(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """A log with only its `Offentliggørelse` sheet, as staff left it."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Offentliggørelse"
    sheet.append(["Nr.", "Hvor", "Fundet", "Erstattet med", "Årsag", "Beslutning"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


@pytest.fixture
def club_world(world: World) -> World:
    world.uow.publication.by_number[ROUND_ID] = {1: Sender("party:1", False, ())}
    return world


def test_a_vis_and_a_text_staff_hide_are_kept_and_read_back(club_world: World) -> None:
    app, log = club_world.app, club_world.base / "log.xlsx"
    first = prepare(app, assembly())
    assert PHONE not in first.version.assembly.responses[0].text
    _sheet, _columns, rows = first.sheet
    found = [list(row) for row in rows]
    phone_row = next(row for row in found if row[2] == PHONE)
    phone_row[5] = Publish.SHOW.value  # staff: show the club's phone number
    staff_row = ["", "", STREET, "", "", ""]  # staff: hide the street, too

    assert absorb_public_edits(app, ROUND_ID, log_with(log, [phone_row, staff_row])) == 2

    kept = {d.found: (d.decision, d.added) for d in club_world.uow.publication.decisions(ROUND_ID)}
    assert kept == {PHONE: (Publish.SHOW, False), STREET: (Publish.HIDE, True)}
    text = prepare(app, assembly()).version.assembly.responses[0].text
    assert PHONE in text and STREET not in text


def test_taking_a_vis_back_forgets_it_but_keeps_the_text_staff_added(club_world: World) -> None:
    app, log = club_world.app, club_world.base / "log.xlsx"
    _sheet, _columns, rows = prepare(app, assembly()).sheet
    phone_row = next(list(row) for row in rows if row[2] == PHONE)
    absorb_public_edits(app, ROUND_ID, log_with(log, [[*phone_row[:5], "Vis"], ["", "", STREET, "", "", ""]]))

    absorb_public_edits(
        app, ROUND_ID, log_with(log, [[*phone_row[:5], ""], ["", "", STREET, "", "", "Skjul"]])
    )

    kept = {d.found: d.decision for d in club_world.uow.publication.decisions(ROUND_ID)}
    assert kept == {STREET: Publish.HIDE}
    assert PHONE not in prepare(app, assembly()).version.assembly.responses[0].text


def test_the_gate_refuses_and_removes_a_stale_public_version(club_world: World) -> None:
    out = club_world.base / "out"
    out.mkdir()
    note, bundle = public_paths(out, ROUND_ID)
    stale = (note, bundle, *bundle_paths(bundle, 2, 1))  # and the volumes of a larger round's version
    for path in stale:
        path.write_bytes(b"last week's public version")
    leaky = prepare(club_world.app, assembly(title="Sag 010203-1234"))

    with pytest.raises(PublicLeakError, match="høringens titel indeholder stadig et CPR-nummer"):
        write_public(club_world.app, leaky, out, None)

    assert not any(path.exists() for path in stale)


def test_senders_and_attachments_are_found_by_the_stored_number_not_the_shown_one(world: World) -> None:
    """Ingest numbers in batch order, the outputs in receipt order: the first response shown may
    be stored as nr. 2. The person who wrote it must be the one hidden, and its attachment its own."""
    person = replace(response(1, "Ole Hansen", "Jeg er imod."), reference=f"{ROUND_ID}-0002")
    club = replace(response(2, "Boldklubben", "Vi støtter."), reference=f"{ROUND_ID}-0001")
    world.uow.publication.by_number[ROUND_ID] = {
        2: Sender("sender:ole@privat.example", True, ("Ole Hansen",)),
        1: Sender("party:1", False, ()),
    }
    world.uow.publication.attachments[ROUND_ID] = {1: [("vedtaegter.pdf", "Klubbens vedtægter")]}
    rnd = make_round()
    both = Assembly(
        rnd, datetime(2025, 10, 30, tzinfo=UTC), [party("Boldklubben")], [person, club], [], [], {}
    )

    version = prepare(world.app, both).version

    assert [r.party for r in version.assembly.responses] == ["Borger 1", "Boldklubben"]
    assert version.attachments == {2: [("vedtaegter.pdf", "Klubbens vedtægter")]}
