"""Flow: after the deadline, a final collect, then the round is closed."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.artifacts import publish, tag_run
from flows.collect import COLLECT_TIMEOUT_SECONDS, collect_steps
from flows.notify import alert_contact
from flows.runtime import PLAIN, batch_runner, get_app, run_name
from flows.schedules import unschedule_collect
from flows.services import closing, collecting


@task(name="check the deadline has passed", **PLAIN)
def check_deadline(round_id: str, now: str | None) -> None:
    closing.ensure_deadline_passed(get_app(now), round_id)


@task(name="mark the round closed", **PLAIN)
def mark_closed(round_id: str, now: str | None) -> str:
    return closing.mark_closed(get_app(now), round_id).isoformat()


@flow(
    name="hoering-close",
    flow_run_name=run_name("close"),
    timeout_seconds=COLLECT_TIMEOUT_SECONDS,  # a final collection, then the close
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
    task_runner=batch_runner(),
)
def close_round(round_id: str, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    check_deadline(round_id, now)
    app = get_app(now)
    # The final collect holds the collect lease like any collect. A round must close, so close
    # waits out a running collect, or a killed one's lease, before it gives up (and fails loudly).
    wait = app.settings.collect_lease_seconds + app.settings.collect_wait_seconds
    with collecting.collector_lease(app, round_id, wait_seconds=wait):
        collected = collect_steps(round_id, now)
        result = {"closed_at": mark_closed(round_id, now), **collected}
    unschedule_collect(round_id)  # the 15-minute collection stops with the round
    publish(round_id, get_app(now), step="lukning")
    return result
