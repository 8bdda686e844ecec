"""The failure alert through the fake unit of work: to whom, and once per failed state."""

from __future__ import annotations

from flows.core.model import OutboxPurpose, SendOutcome, SendResult
from flows.notify import failure_alert
from tests.unit.services.conftest import World


def alert(world: World, key: str = "run-1:state-1") -> str:
    return failure_alert(world.app, "r1", step="collect", reason="databasen svarer ikke", key=key)


def test_the_round_s_contact_is_mailed_once_per_failed_state(world: World) -> None:
    """A hook that runs twice for one state mails once; a new failed state mails again."""
    world.round()

    first, twice, other = alert(world), alert(world), alert(world, key="run-1:state-2")

    assert (first, twice, other) == (
        "the round's contact was mailed",
        "the contact was already mailed about this failure",
        "the round's contact was mailed",
    )
    assert world.mailer.recipients() == ["sagsbehandler@kk.example"] * 2
    message = world.mailer.attempts[0][0]
    assert "databasen svarer ikke" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert [r.item.purpose for r in world.uow.outbox.rows.values()] == [OutboxPurpose.FAILURE_ALERT] * 2


def test_without_a_contact_the_alert_goes_to_the_reply_to_address(world: World) -> None:
    world.round(contact=None)

    alert(world)

    assert world.mailer.recipients() == ["hoering@kk.example"]


def test_an_alert_the_server_will_not_take_now_stays_queued(world: World) -> None:
    world.round()
    world.mailer.answer = lambda _to: SendResult(SendOutcome.TEMP_FAILED.value, 421, "busy")

    said = alert(world)

    assert said == "the failure e-mail is queued and will be sent on the next delivery"
    assert len(world.uow.outbox.rows) == 1


def test_an_unknown_round_mails_no_one(world: World) -> None:
    said = alert(world)

    assert said == "the round r1 is unknown, so there is no contact to mail"
    assert world.mailer.attempts == []
    assert world.uow.outbox.rows == {}
