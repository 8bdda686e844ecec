"""Flow: send the reminders that are due, to parties that have not responded."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.artifacts import publish, tag_run
from flows.notify import alert_contact
from flows.runtime import PLAIN, RETRY, get_app, run_name
from flows.services import inviting
from flows.services.outbox import deliver


@task(name="queue due reminders", **PLAIN)
def queue_reminders(round_id: str, now: str | None) -> int:
    return inviting.queue_reminders(get_app(now), round_id)


@task(name="deliver reminders", **RETRY)
def deliver_reminders(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(get_app(now), round_id, purposes=("reminder",))
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
    return result
