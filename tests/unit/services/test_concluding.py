"""The final note through the fake unit of work: one mail per counted respondent, once, with the
document kept in the data folder; a rerun queues nothing and sends only what was deferred."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flows.core.authresults import Trust
from flows.core.conclusion import CountedSender
from flows.core.errors import RoundNotClosedError
from flows.core.model import OutboxPurpose, OutboxState, SendOutcome, SendResult
from flows.services.concluding import conclude
from tests.unit.services.conftest import DEADLINE, World

BUSY = SendResult(SendOutcome.TEMP_FAILED.value, 451, "try again later")


def sender(address: str, name: str, *, trust: Trust = Trust.PASS, bounced: bool = False) -> CountedSender:
    return CountedSender(address, name, None, trust, invitation_bounced=bounced, party_undelivered=False)


@pytest.fixture
def closed(world: World) -> World:
    world.round()
    world.clock.at = DEADLINE + timedelta(days=10)
    world.uow.rounds.mark_closed("r1", DEADLINE + timedelta(hours=1))
    world.uow.conclusion.counted["r1"] = [
        sender("forening@example.org", "Foreningen"),
        sender("Forening@Example.org", "Foreningen igen"),  # the same address, written twice
        sender("jens@privat.example", "Jens Hansen"),
        sender("falsk@example.net", "Ukendt", trust=Trust.FAIL),
        sender("retur@example.net", "Retur", bounced=True),
    ]
    return world


def note(world: World) -> Path:
    path = world.base / "hoeringsnotat.pdf"
    path.write_bytes(b"%PDF-1.4 hoeringsnotat")
    return path


def test_one_mail_per_counted_respondent_and_a_rerun_sends_none(closed: World) -> None:
    first = conclude(closed.app, "r1", note(closed))

    assert (first.queuing.queued, first.queuing.recipients) == (2, 2)
    assert (first.queuing.unverified, first.queuing.bounced) == (1, 1)
    assert closed.mailer.recipients() == ["forening@example.org", "jens@privat.example"]
    message, _to = closed.mailer.attempts[0]
    attached = [part.get_content() for part in message.iter_attachments()]
    assert attached == [b"%PDF-1.4 hoeringsnotat"]

    again = conclude(closed.app, "r1", note(closed))

    assert (again.queuing.queued, again.delivery.sent) == (0, 0)
    assert len(closed.mailer.attempts) == 2
    assert [e.detail["new"] for e in closed.uow.events.added if e.kind == "queued"] == [2, 0]


def test_a_deferred_mail_is_sent_once_by_the_rerun(closed: World) -> None:
    closed.mailer.answer = lambda to: BUSY if to == "jens@privat.example" else SendResult("sent", 250)
    first = conclude(closed.app, "r1", note(closed))
    assert (first.delivery.sent, first.delivery.temp_failed) == (1, 1)

    closed.mailer.answer = lambda _to: SendResult("sent", 250)
    closed.clock.move(timedelta(days=1))
    again = conclude(closed.app, "r1", note(closed))

    assert (again.delivery.sent, again.delivery.temp_failed) == (1, 0)
    assert closed.mailer.recipients() == [
        "forening@example.org",
        "jens@privat.example",
        "jens@privat.example",
    ]
    rows = closed.uow.outbox.of_purpose(OutboxPurpose.CONCLUSION)
    assert [r.state for r in rows] == [OutboxState.SENT, OutboxState.SENT]


def test_a_round_not_closed_gets_no_mail(world: World) -> None:
    world.round()
    world.uow.conclusion.counted["r1"] = [sender("forening@example.org", "Foreningen")]

    with pytest.raises(RoundNotClosedError):
        conclude(world.app, "r1", note(world))

    assert world.uow.outbox.rows == {} and world.mailer.attempts == []
