"""Flow: open a round from its file (or update it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.artifacts import publish, tag_run
from flows.notify import alert_contact
from flows.runtime import PLAIN, get_app, run_name
from flows.schedules import schedule_round_runs
from flows.services.opening import open_round as open_round_service


@task(name="validate and record the round", **PLAIN)
def record_round(round_file: str, now: str | None, force: bool) -> dict[str, Any]:
    report = open_round_service(get_app(now), Path(round_file), force=force)
    return {
        "round_id": report.round_id,
        "outcome": report.outcome.value,
        "parties": report.parties,
        "deadline_moved": report.deadline_moved,
        "deadline_passed": report.deadline_passed,
    }


@task(name="schedule the round's runs", **PLAIN)
def schedule_runs(round_id: str, now: str | None) -> dict[str, Any]:
    return schedule_round_runs(round_id, now)


@flow(
    name="hoering-open",
    flow_run_name=run_name("open"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def open_round(round_file: str, now: str | None = None, force: bool = False) -> dict[str, Any]:
    """``force``: apply the file although its deadline has passed or the round is closed."""
    result = record_round(round_file, now, force)
    tag_run(result["round_id"])
    # With a server: the round's reminders, close and assemble runs, moved if the deadline moved.
    result["schedule"] = schedule_runs(result["round_id"], now)
    publish(result["round_id"], get_app(now), step="åbning")
    return result
