"""Flow: send every invitation not yet sent (each recipient exactly once).

Invitations the mail server did not take stay in the outbox for a retry. The run then fails
with one Danish line saying how many wait and from when a rerun sends them, so neither the
command line (non-zero exit) nor the dashboard (a failed run) reports a round as invited
while its invitations sit in the outbox.
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


@task(name="queue invitations", **PLAIN)
def queue_invitations(round_id: str, now: str | None) -> int:
    return inviting.queue_invitations(get_app(now), round_id)


@task(name="deliver invitations", **RETRY)
def deliver_invitations(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(get_app(now), round_id, purposes=(OutboxPurpose.INVITATION,))
    return {
        "sent": report.sent,
        "temp_failed": report.temp_failed,
        "perm_failed": report.perm_failed,
        "possible_duplicates": report.possible_duplicates,
        "failures": report.failures,
    }


@flow(
    name="hoering-invite",
    flow_run_name=run_name("invite"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def invite(round_id: str, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    queued = queue_invitations(round_id, now)
    result = {"queued": queued, **deliver_invitations(round_id, now)}
    publish(round_id, get_app(now), step="invitationer")
    waiting = inviting.waiting_invitations(get_app(now), round_id)
    if waiting.count:
        raise InvitationsWaitingError(
            waiting.count, result["sent"], waiting.retry_at, unreached=waiting.unreached
        )
    return result
