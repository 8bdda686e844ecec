"""Flow: delete the personal data of rounds past their deletion date (archived ones only).

Also a deployment with a daily schedule in Copenhagen time (deployments/serve.py, prefect.yaml).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, runtime, task

from flows.notify import alert_contact
from flows.runtime import PLAIN, get_app
from flows.services import purging


@task(name="delete what is past its date", **PLAIN)
def purge_due(round_id: str | None, now: str | None) -> dict[str, Any]:
    report = purging.purge(get_app(now), round_id)
    return {
        "purged": report.purged,
        "left": report.left,
        "not_due": report.not_due,
        "lines": purging.purge_lines(report),
    }


def purge_run_name() -> str:
    """ "purge · ROUND_ID", or "purge · alle høringer" for the daily run."""
    parameters: dict[str, Any] = runtime.flow_run.parameters or {}
    return f"purge · {parameters.get('round_id') or 'alle høringer'}"


@flow(
    name="hoering-purge",
    flow_run_name=purge_run_name,
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def purge(round_id: str | None = None, now: str | None = None) -> dict[str, Any]:
    return purge_due(round_id, now)
