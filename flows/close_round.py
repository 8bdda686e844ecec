"""Flow: after the deadline, a final collect, then the round is closed."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.collect import collect_steps
from flows.runtime import get_app, run_name
from flows.services import closing


@task(name="check the deadline has passed")
def check_deadline(round_id: str, now: str | None) -> None:
    closing.ensure_deadline_passed(get_app(now), round_id)


@task(name="mark the round closed")
def mark_closed(round_id: str, now: str | None) -> str:
    return closing.mark_closed(get_app(now), round_id).isoformat()


@flow(name="hoering-close", flow_run_name=run_name("close"))
def close_round(round_id: str, now: str | None = None) -> dict[str, Any]:
    check_deadline(round_id, now)
    collected = collect_steps(round_id, now)
    return {"closed_at": mark_closed(round_id, now), **collected}
