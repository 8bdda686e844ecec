"""``open`` through the fake unit of work: created, updated, unchanged, and what it refuses."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from flows.services.closing import mark_closed
from flows.services.opening import OpenOutcome, OpenRefusedError, open_round
from tests.unit.services.conftest import World

ROUND = """\
id = "r1"
title = "Strategi"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Rådet"
opens = 2025-10-16T00:00:00+02:00
deadline = {deadline}
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
{parties}
"""
PARTY = '[[parties]]\nname = "{name}"\nemail = "{email}"\n'
DEADLINE = "2025-10-24T23:59:59+02:00"


def round_file(base: Path, deadline: str = DEADLINE, parties: tuple[str, ...] = ("Foreningen",)) -> Path:
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    listed = "".join(PARTY.format(name=name, email=f"p{i}@example.org") for i, name in enumerate(parties))
    path = base / "runde.toml"
    path.write_text(ROUND.format(deadline=deadline, parties=listed), encoding="utf-8")
    return path


def test_a_new_file_creates_the_round_and_its_parties(world: World) -> None:
    report = open_round(world.app, round_file(world.base, parties=("A", "B")))

    rnd = world.uow.rounds.get("r1")
    assert (report.outcome, report.parties, report.deadline_moved) == (OpenOutcome.CREATED, 2, False)
    assert [p.name for p in world.uow.rounds.active_parties("r1")] == ["A", "B"]
    assert rnd.deadline == datetime.fromisoformat(DEADLINE)
    assert [(e.step, e.kind, e.detail["forced"]) for e in world.uow.events.added] == [
        ("open", "created", False)
    ]


def test_the_same_file_again_is_unchanged_and_records_nothing(world: World) -> None:
    path = round_file(world.base)
    open_round(world.app, path)

    report = open_round(world.app, path)

    assert report.outcome == OpenOutcome.UNCHANGED
    assert [e.kind for e in world.uow.events.added] == ["created"]


def test_a_changed_file_updates_the_round_moves_its_deadline_and_drops_a_party(world: World) -> None:
    """A moved deadline is reported; a party left out is deactivated, never deleted."""
    open_round(world.app, round_file(world.base, parties=("A", "B")))

    report = open_round(world.app, round_file(world.base, "2025-10-31T23:59:59+01:00", parties=("B", "C")))

    assert (report.outcome, report.deadline_moved) == (OpenOutcome.UPDATED, True)
    assert [p.name for p in world.uow.rounds.active_parties("r1")] == ["B", "C"]
    assert world.uow.rounds.inactive_names("r1") == ["A"]
    assert world.uow.rounds.get("r1").deadline == datetime.fromisoformat("2025-10-31T23:59:59+01:00")


def test_a_deadline_already_passed_is_refused_unless_forced(world: World) -> None:
    world.clock.at = datetime.fromisoformat("2025-10-25T08:00:00+02:00")
    path = round_file(world.base)

    with pytest.raises(OpenRefusedError, match="allerede overskredet"):
        open_round(world.app, path)
    assert world.uow.rounds.find("r1") is None
    forced = open_round(world.app, path, force=True)

    assert (forced.outcome, forced.deadline_passed) == (OpenOutcome.CREATED, True)
    assert world.uow.events.added[-1].detail["forced"] is True


def test_a_change_to_a_closed_round_needs_force_and_the_round_stays_closed(world: World) -> None:
    open_round(world.app, round_file(world.base))
    world.clock.at = datetime.fromisoformat("2025-10-20T10:00:00+02:00")
    closed_at = mark_closed(world.app, "r1")
    changed = round_file(world.base, parties=("Foreningen", "Ny"))

    with pytest.raises(OpenRefusedError, match="blev lukket"):
        open_round(world.app, changed)
    assert len(world.uow.rounds.active_parties("r1")) == 1
    report = open_round(world.app, changed, force=True)

    assert report.outcome == OpenOutcome.UPDATED
    assert world.uow.rounds.get("r1").closed_at == closed_at
    assert world.uow.events.added[-1].detail["forced"] is True
