"""Flow: send every invitation not yet sent (each recipient exactly once)."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.runtime import RETRY, get_app, run_name
from flows.services import inviting
from flows.services.outbox import deliver


@task(name="queue invitations")
def queue_invitations(round_id: str, now: str | None) -> int:
    return inviting.queue_invitations(get_app(now), round_id)


@task(name="deliver invitations", **RETRY)
def deliver_invitations(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(get_app(now), round_id, purposes=("invitation",))
    return {
        "sent": report.sent,
        "temp_failed": report.temp_failed,
        "perm_failed": report.perm_failed,
        "possible_duplicates": report.possible_duplicates,
        "failures": report.failures,
    }


@flow(name="hoering-invite", flow_run_name=run_name("invite"))
def invite(round_id: str, now: str | None = None) -> dict[str, Any]:
    queued = queue_invitations(round_id, now)
    return {"queued": queued, **deliver_invitations(round_id, now)}
