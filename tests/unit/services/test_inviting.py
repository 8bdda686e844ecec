"""Invitations, reminders and extensions through the fake unit of work: no database, no SMTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from flows.core.errors import UnknownPartyError, UnknownRoundError
from flows.core.model import OutboxPurpose, OutboxState, PartySpec
from flows.services import inviting
from tests.unit.services.conftest import DEADLINE, World

ADDRESSES = ["forening@example.org", "raad@example.org", "formand@example.org"]


def test_each_party_address_gets_one_invitation_and_a_rerun_sends_nothing_twice(world: World) -> None:
    """Every address of every party is invited once; inviting again queues and sends nothing."""
    world.round()

    first = inviting.invite(world.app, "r1")
    second = inviting.invite(world.app, "r1")

    assert (first.queued, first.delivery.sent) == (3, 3)
    assert (second.queued, second.delivery.sent) == (0, 0)
    assert world.mailer.recipients() == ADDRESSES
    rows = world.uow.outbox.of_purpose(OutboxPurpose.INVITATION)
    assert {row.state for row in rows} == {OutboxState.SENT}
    assert len({row.message_id for row in rows}) == 3
    assert [e.detail["new"] for e in world.uow.events.added if e.kind == "queued"] == [3, 0]


def test_the_invitation_carries_the_draft_and_the_party_s_template(world: World) -> None:
    """What goes out is the round's mail: the draft attached, the party's own response template."""
    world.round()

    inviting.invite(world.app, "r1")

    message, recipient = world.mailer.attempts[0]
    names = [part.get_filename() for part in message.iter_attachments()]
    assert recipient == "forening@example.org"
    assert names == ["udkast.pdf", "hoeringsskema-r1.xlsx"]
    assert message["Message-ID"] == world.uow.outbox.rows[1].message_id


def test_a_party_added_to_the_round_file_later_is_invited_alone(world: World) -> None:
    """A rerun after the round file gained a party invites that party and no one else again."""
    spec = world.round()
    inviting.invite(world.app, "r1")
    world.uow.rounds.save(
        replace(spec, parties=(*spec.parties, PartySpec("Ny", ("ny@example.org",)))), "d2", at=world.clock()
    )

    again = inviting.invite(world.app, "r1")

    assert again.queued == 1
    assert world.mailer.recipients() == [*ADDRESSES, "ny@example.org"]


def test_inviting_an_unknown_round_fails_before_anything_is_queued(world: World) -> None:
    with pytest.raises(UnknownRoundError):
        inviting.invite(world.app, "ingen")

    assert world.uow.outbox.rows == {}
    assert world.mailer.attempts == []


def test_reminders_go_once_per_offset_to_invited_parties_without_a_response(world: World) -> None:
    """Three days before the deadline: the party that answered and the address never reached get
    no reminder; each other delivered address gets one, in the thread of its invitation."""
    world.round()
    inviting.invite(world.app, "r1")
    foreningen, raadet = world.uow.rounds.active_parties("r1")
    world.uow.rounds.answered["r1"] = {foreningen.id}
    invitation = world.uow.outbox.rows[3]  # formand@: its invitation bounced back at once
    invitation.state = OutboxState.PERM_FAILED
    world.clock.at = DEADLINE - timedelta(days=2)

    first = inviting.remind(world.app, "r1")
    second = inviting.remind(world.app, "r1")

    reminders = world.uow.outbox.of_purpose(OutboxPurpose.REMINDER)
    assert (first.queued, second.queued) == (1, 0)
    assert [(r.item.address, r.item.party_id) for r in reminders] == [("raad@example.org", raadet.id)]
    assert reminders[0].payload["in_reply_to"] == world.uow.outbox.rows[2].message_id
    assert world.mailer.recipients()[3:] == ["raad@example.org"]


def test_no_reminder_before_its_offset_is_due_nor_after_the_deadline(world: World) -> None:
    world.round()
    inviting.invite(world.app, "r1")

    world.clock.at = DEADLINE - timedelta(days=4)
    early = inviting.queue_reminders(world.app, "r1")
    world.clock.at = DEADLINE + timedelta(minutes=1)
    late = inviting.queue_reminders(world.app, "r1")

    assert (early, late) == (0, 0)


def test_an_extension_is_recorded_on_the_party_and_mailed_to_each_of_its_addresses(world: World) -> None:
    """The party's own deadline is stored; the notice names the new date; a rerun mails nothing."""
    world.round()
    until = datetime.fromisoformat("2025-11-07T12:00:00+01:00")

    first = inviting.extend(world.app, "r1", "rådet for x", until)
    second = inviting.extend(world.app, "r1", "raad@example.org", until)

    raadet = world.uow.rounds.find_party("r1", "Rådet for X")
    notices = world.uow.outbox.of_purpose(OutboxPurpose.EXTENSION)
    assert raadet.extended_until == until
    assert (first.queued, second.queued) == (2, 0)
    assert [n.item.address for n in notices] == ["raad@example.org", "formand@example.org"]
    assert notices[0].item.values["until"] == "fredag den 7. november 2025 kl. 12.00"
    assert world.mailer.recipients() == ["raad@example.org", "formand@example.org"]


def test_extending_a_party_the_round_does_not_have_changes_nothing(world: World) -> None:
    world.round()

    with pytest.raises(UnknownPartyError):
        inviting.extend(world.app, "r1", "ukendt", DEADLINE)

    assert world.uow.outbox.rows == {}
