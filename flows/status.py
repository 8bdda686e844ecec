"""Flow: the round in one view."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.runtime import PLAIN, get_app, run_name
from flows.services.status import round_status


@task(name="read the round's status", **PLAIN)
def read_status(round_id: str, now: str | None) -> dict[str, Any]:
    return round_status(get_app(now), round_id)


@flow(name="hoering-status", flow_run_name=run_name("status"))
def status(round_id: str, now: str | None = None) -> dict[str, Any]:
    return read_status(round_id, now)
