"""Flow: send the reminders that are due, to parties that have not responded.

Reminders the mail server did not take stay in the outbox; the run then fails with one Danish
line saying how many wait and from when a rerun sends them (as ``invite`` does).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.artifacts import publish, tag_run
from flows.core.errors import InvitationsWaitingError
from flows.core.model import OutboxPurpose
from flows.notify import alert_contact
from flows.runtime import PLAIN, RETRY, get_app, run_name
from flows.services import inviting
from flows.services.outbox import deliver


@task(name="queue due reminders", **PLAIN)
def queue_reminders(round_id: str, now: str | None) -> int:
    return inviting.queue_reminders(get_app(now), round_id)


@task(name="deliver reminders", **RETRY)
def deliver_reminders(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(get_app(now), round_id, purposes=(OutboxPurpose.REMINDER,))
    return {"sent": report.sent, "temp_failed": report.temp_failed, "perm_failed": report.perm_failed}


@flow(
    name="hoering-remind",
    flow_run_name=run_name("remind"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def remind(round_id: str, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    queued = queue_reminders(round_id, now)
    result = {"queued": queued, **deliver_reminders(round_id, now)}
    publish(round_id, get_app(now), step="påmindelser")
    # as invite: reminders the mail server did not take fail the run with when to run it again
    waiting = inviting.waiting_invitations(get_app(now), round_id, purpose=OutboxPurpose.REMINDER)
    if waiting.count:
        raise InvitationsWaitingError(
            waiting.count, result["sent"], waiting.retry_at, unreached=waiting.unreached, command="remind"
        )
    return result
