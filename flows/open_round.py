"""Flow: open a round from its file (or update it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.runtime import get_app, run_name
from flows.services.opening import open_round as open_round_service


@task(name="validate and record the round")
def record_round(round_file: str, now: str | None) -> dict[str, Any]:
    report = open_round_service(get_app(now), Path(round_file))
    return {
        "round_id": report.round_id,
        "outcome": report.outcome,
        "parties": report.parties,
        "deadline_moved": report.deadline_moved,
    }


@flow(name="hoering-open", flow_run_name=run_name("open"))
def open_round(round_file: str, now: str | None = None) -> dict[str, Any]:
    return record_round(round_file, now)
