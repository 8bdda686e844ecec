"""No silent failure: when a round's run fails or crashes, the round's contact gets an e-mail.

``alert_contact`` is a Prefect state hook (``on_failure`` and ``on_crashed`` on every round flow).
It queues a ``failure_alert`` in the outbox (deduplicated per failed state, so a hook that runs
twice sends once, and a retry that fails again sends a new alert) and delivers it at once. It
goes to the round's contact, else to its reply-to address. A hook must never raise: whatever
goes wrong here is logged and swallowed, and the run's own state is left as it was.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flows.core.model import OutboxPurpose
from flows.core.outbox import OutboxItem
from flows.settings import redact_url

if TYPE_CHECKING:
    from flows.bootstrap import App

log = logging.getLogger(__name__)

MAX_REASON = 600


def plain_reason(message: str | None) -> str:
    """The state message made safe to mail: passwords in URLs replaced, one paragraph, short."""
    text = redact_url(message or "ukendt fejl")
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _step(flow: Any) -> str:
    name = str(getattr(flow, "name", "") or "kørsel")
    return name.removeprefix("hoering-")


def alert_contact(flow: Any, flow_run: Any, state: Any) -> None:
    """State hook: mail the round's contact that this run failed. Never raises."""
    try:
        parameters: dict[str, Any] = dict(getattr(flow_run, "parameters", None) or {})
        round_id = parameters.get("round_id")
        if not round_id:
            # info, not a warning: the failure itself is already the run's one line (the CLI prints it)
            log.info("Run %s failed, but it names no round, so no one was mailed.", flow_run.name)
            return
        result = send_failure_alert(
            str(round_id),
            step=_step(flow),
            reason=plain_reason(getattr(state, "message", None)),
            key=f"{flow_run.id}:{getattr(state, 'id', '')}",
            now=parameters.get("now"),
        )
        log.info("Run %s failed; %s", flow_run.name, result)
    except Exception as exc:
        log.error("Run failed and the failure e-mail could not be sent either: %s", type(exc).__name__)


def send_failure_alert(round_id: str, *, step: str, reason: str, key: str, now: str | None = None) -> str:
    """Queue and deliver one failure alert; returns a plain sentence for the log."""
    from flows.runtime import get_app

    return failure_alert(get_app(now), round_id, step=step, reason=reason, key=key)


def failure_alert(app: App, round_id: str, *, step: str, reason: str, key: str) -> str:
    """``send_failure_alert`` with the ``App`` given (the unit tests give one with fakes)."""
    from flows.services.outbox import deliver, enqueue

    with app.uow() as uow:
        rnd = uow.rounds.find(round_id)
        if rnd is None:
            return f"the round {round_id} is unknown, so there is no contact to mail"
        item = OutboxItem(
            round_id=round_id,
            purpose=OutboxPurpose.FAILURE_ALERT,
            address=rnd.contact or rnd.reply_to,
            dedupe_key=f"failure_alert:{round_id}:{key}"[:400],
            template="failure_alert",
            values={"step": step, "round_id": round_id, "title": rnd.title, "reason": reason},
        )
        queued = enqueue(uow, app, [item])
    report = deliver(app, round_id, purposes=(OutboxPurpose.FAILURE_ALERT,))
    if not queued:
        return "the contact was already mailed about this failure"
    if report.sent:
        return "the round's contact was mailed"
    return "the failure e-mail is queued and will be sent on the next delivery"
