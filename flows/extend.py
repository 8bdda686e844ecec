"""Flow: give one party its own deadline and mail it a notice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.runtime import PLAIN, get_app, run_name
from flows.services import inviting


@task(name="record extension and notify", **PLAIN)
def record_extension(round_id: str, party: str, until: str, now: str | None) -> dict[str, Any]:
    summary = inviting.extend(get_app(now), round_id, party, datetime.fromisoformat(until))
    return {"queued": summary.queued, "sent": summary.delivery.sent}


@flow(name="hoering-extend", flow_run_name=run_name("extend"))
def extend(round_id: str, party: str, until: str, now: str | None = None) -> dict[str, Any]:
    return record_extension(round_id, party, until, now)
