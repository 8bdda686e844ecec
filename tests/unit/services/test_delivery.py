"""Outbox delivery through the fake unit of work: what each kind of answer leaves on the row."""

from __future__ import annotations

from datetime import timedelta

from flows.core.model import OutboxPurpose, OutboxState, PartySpec, SendOutcome, SendResult
from flows.core.sending import BACKOFF_BASE_SECONDS
from flows.services import inviting
from flows.services.outbox import deliver
from tests.unit.services.conftest import World

BUSY = SendResult(SendOutcome.TEMP_FAILED.value, 451, "try again later")
NO_SUCH_USER = SendResult(SendOutcome.PERM_FAILED.value, 550, "no such user")
CUT_AFTER_DATA = SendResult(SendOutcome.UNKNOWN.value, None, "connection lost after DATA")


def test_a_temporary_failure_waits_for_its_retry_time_then_is_sent(world: World) -> None:
    """A 4xx leaves the row due again after a backoff: not before, and then with the same Message-ID."""
    world.round()
    world.mailer.answer = lambda to: BUSY if to == "raad@example.org" else SendResult("sent", 250)
    first = inviting.invite(world.app, "r1")
    row = world.uow.outbox.rows[2]
    retry_at, answer = row.next_attempt_at, (row.state, row.last_code, row.last_text)

    world.mailer.answer = lambda _to: SendResult("sent", 250)
    too_soon = deliver(world.app, "r1")
    assert retry_at is not None
    world.clock.at = retry_at
    later = deliver(world.app, "r1")

    assert (first.delivery.sent, first.delivery.temp_failed) == (2, 1)
    assert timedelta(seconds=BACKOFF_BASE_SECONDS / 2) <= retry_at - row.created_at
    assert retry_at - row.created_at <= timedelta(seconds=BACKOFF_BASE_SECONDS)
    assert answer == (OutboxState.TEMP_FAILED, 451, "try again later")
    assert too_soon.sent == 0
    assert later.sent == 1
    assert (row.state, row.attempts, row.possible_duplicate) == (OutboxState.SENT, 2, False)
    retried = [m for m, to in world.mailer.attempts if to == "raad@example.org"]
    assert [m["Message-ID"] for m in retried] == [row.message_id, row.message_id]


def test_a_permanent_failure_is_reported_and_never_retried(world: World) -> None:
    world.round()
    world.mailer.answer = lambda to: NO_SUCH_USER if to == "forening@example.org" else SendResult("sent", 250)

    first = inviting.invite(world.app, "r1")
    world.clock.move(timedelta(days=1))
    again = deliver(world.app, "r1")

    row = world.uow.outbox.rows[1]
    assert (row.state, row.next_attempt_at) == (OutboxState.PERM_FAILED, None)
    assert first.delivery.failures == [
        {"address": "forening@example.org", "code": 550, "text": "no such user"}
    ]
    assert (again.sent, again.perm_failed, again.temp_failed) == (0, 0, 0)
    assert world.mailer.recipients().count("forening@example.org") == 1


def test_a_busy_server_is_given_up_on_after_the_last_attempt(world: World) -> None:
    """``smtp_max_attempts`` 4xx answers make the row perm_failed: it does not wait for ever."""
    world.round(parties=(PartySpec("Foreningen", ("forening@example.org",)),))
    world.mailer.answer = lambda _to: BUSY
    inviting.invite(world.app, "r1")
    row = world.uow.outbox.rows[1]

    for _ in range(world.app.settings.smtp_max_attempts + 2):
        world.clock.move(timedelta(hours=2))
        deliver(world.app, "r1", purposes=(OutboxPurpose.INVITATION,))

    assert (row.state, row.attempts) == (OutboxState.PERM_FAILED, world.app.settings.smtp_max_attempts)


def test_a_row_left_sending_by_a_crash_is_resent_with_its_message_id_and_flagged(world: World) -> None:
    """The claim was committed but the run died before the answer: the next run sends it again,
    under the same Message-ID, and says it may be a duplicate."""
    world.round()
    inviting.queue_invitations(world.app, "r1")
    world.uow.outbox.mark_sending(1, "Høring")  # the claim of the run that died

    report = deliver(world.app, "r1")

    row = world.uow.outbox.rows[1]
    assert (row.state, row.attempts, row.possible_duplicate) == (OutboxState.SENT, 2, True)
    assert report.possible_duplicates == 1
    assert world.mailer.attempts[0][0]["Message-ID"] == row.message_id


def test_an_answer_cut_off_after_data_is_retried_as_a_possible_duplicate(world: World) -> None:
    world.round()
    world.mailer.answer = lambda to: (
        CUT_AFTER_DATA if to == "forening@example.org" else SendResult("sent", 250)
    )

    report = inviting.invite(world.app, "r1").delivery

    row = world.uow.outbox.rows[1]
    assert (row.state, row.possible_duplicate) == (OutboxState.TEMP_FAILED, True)
    assert report.possible_duplicates == 1


def test_waiting_invitations_says_how_many_wait_and_when_the_first_may_go(world: World) -> None:
    """After a run with one 4xx: one waits, at its retry time, and the server did answer."""
    world.round()
    world.mailer.answer = lambda to: BUSY if to == "formand@example.org" else SendResult("sent", 250)
    inviting.invite(world.app, "r1")

    waiting = inviting.waiting_invitations(world.app, "r1")

    assert waiting == inviting.Waiting(1, world.uow.outbox.rows[3].next_attempt_at, unreached=False)


def test_only_the_purposes_asked_for_are_delivered_and_each_send_is_an_event(world: World) -> None:
    world.round()
    inviting.queue_invitations(world.app, "r1")

    nothing = deliver(world.app, "r1", purposes=(OutboxPurpose.REMINDER,))
    report = deliver(world.app, "r1", purposes=(OutboxPurpose.INVITATION,))

    sends = [e for e in world.uow.events.added if e.step == "send"]
    assert (nothing.sent, report.sent) == (0, 3)
    assert [(e.kind, e.detail["purpose"], e.detail["code"]) for e in sends] == [
        ("sent", "invitation", 250)
    ] * 3
    assert world.mailer.closed == 1  # no mailer is opened when nothing is due
