"""Closing through the fake unit of work: not before the deadline, and once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.core.errors import UnknownRoundError
from flows.services.closing import DeadlineNotPassedError, ensure_deadline_passed, mark_closed
from tests.unit.services.conftest import DEADLINE, World


def test_a_round_is_not_closed_before_its_deadline(world: World) -> None:
    world.round()
    world.clock.at = DEADLINE

    with pytest.raises(DeadlineNotPassedError, match="ikke udløbet endnu"):
        ensure_deadline_passed(world.app, "r1")
    world.clock.move(timedelta(seconds=1))
    ensure_deadline_passed(world.app, "r1")


def test_closing_twice_keeps_the_first_time_and_records_one_event(world: World) -> None:
    world.round()
    world.clock.at = DEADLINE + timedelta(hours=1)
    first = mark_closed(world.app, "r1")
    world.clock.move(timedelta(days=1))

    second = mark_closed(world.app, "r1")

    assert first == second == DEADLINE + timedelta(hours=1)
    assert world.uow.rounds.get("r1").closed_at == first
    assert [(e.step, e.kind) for e in world.uow.events.added] == [("close", "closed")]


def test_an_unknown_round_cannot_be_closed(world: World) -> None:
    with pytest.raises(UnknownRoundError):
        mark_closed(world.app, "ingen")
