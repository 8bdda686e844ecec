"""What the Prefect server holds for a round, read back for ``hoering status``.

The round's planned runs (reminders, close, assemble) are found by the idempotency keys
``flows.schedules.plan_round`` gives them, so a run that was deleted shows as ``missing`` rather
than vanishing from the view. The next collection is the earliest scheduled run of the round's
collect schedule. Without a server, or when it does not answer, the view says so in one field and
``hoering status`` still shows everything from the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from flows.core.tags import round_tag
from flows.schedules import (
    DEPLOYMENTS,
    NO_DEPLOYMENTS,
    NO_SERVER,
    SCHEDULED_STEPS,
    collect_slug,
    key_prefix,
    plan_round,
    server_configured,
)

MISSING = "MISSING"
"""The state of a planned run, still to come, that the server does not have (deleted)."""
PASSED = "PASSED"
"""A planned run the server does not have whose time has passed (e.g. opened after it)."""


def read_round_schedule(
    round_id: str,
    deadline: datetime,
    reminders: Sequence[str],
    opens: datetime | None = None,
) -> dict[str, Any]:
    """The round as the server sees it; keys documented in README.md (``hoering status --json``)."""
    view: dict[str, Any] = {
        "server": None,
        "reachable": False,
        "reason": None,
        "collect_schedule": None,
        "next_collect": None,
        "next_reminder_run": None,
        "runs": [],
        "close": None,
        "assemble": None,
    }
    if not server_configured():
        view["reason"] = NO_SERVER
        return view
    from prefect.settings import PREFECT_API_URL

    view["server"] = str(PREFECT_API_URL.value())
    try:
        _read(view, round_id, deadline, reminders, opens)
    except Exception as exc:  # a server that is down must not take the database's view with it
        view["reachable"] = False
        view["reason"] = f"Prefect-serveren svarer ikke ({type(exc).__name__})"
    return view


def _read(
    view: dict[str, Any],
    round_id: str,
    deadline: datetime,
    reminders: Sequence[str],
    opens: datetime | None,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    now = datetime.now(UTC)
    with get_client(sync_client=True) as client:
        client.api_healthcheck()  # raises when the server is down: reported as not reachable
        view["reachable"] = True
        ids: dict[str, Any] = {}
        for step in (*SCHEDULED_STEPS, "collect"):
            try:
                ids[step] = client.read_deployment_by_name(DEPLOYMENTS[step]).id
            except ObjectNotFound:
                continue
        if not ids:
            view["reason"] = NO_DEPLOYMENTS
            return
        step_ids = [ids[s] for s in SCHEDULED_STEPS if s in ids]
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[round_tag(round_id)])),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=step_ids)),
            limit=200,
        )
        by_key = {
            r.idempotency_key: r for r in found if (r.idempotency_key or "").startswith(key_prefix(round_id))
        }
        for planned in plan_round(round_id, deadline, reminders, opens):
            flow_run = by_key.get(planned.idempotency_key)
            at = (flow_run.expected_start_time if flow_run else None) or planned.scheduled_time
            entry = {
                "step": planned.step,
                "at": at.isoformat(),
                "state": _state(flow_run, planned.scheduled_time, now),
                "state_name": flow_run.state_name if flow_run else None,
            }
            view["runs"].append(entry)
            if planned.step in ("close", "assemble"):
                view[planned.step] = entry
        upcoming = [
            r for r in view["runs"] if r["step"] == "remind" and r["state"] == StateType.SCHEDULED.value
        ]
        view["next_reminder_run"] = upcoming[0]["at"] if upcoming else None
        if "collect" not in ids:
            return
        schedules = [
            s for s in client.read_deployment_schedules(ids["collect"]) if s.slug == collect_slug(round_id)
        ]
        view["collect_schedule"] = (
            "missing" if not schedules else "active" if schedules[0].active else "paused"
        )
        if view["collect_schedule"] != "active":
            return
        # The scheduler keeps a few runs ahead per schedule; the round's are those with its id.
        scheduled = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))
            ),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[ids["collect"]])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )
        for flow_run in scheduled:
            if (flow_run.parameters or {}).get("round_id") == round_id and flow_run.expected_start_time:
                view["next_collect"] = flow_run.expected_start_time.isoformat()
                break


def _state(flow_run: Any, planned_at: datetime, now: datetime) -> str:
    if flow_run is not None and flow_run.state_type is not None:
        return str(flow_run.state_type.value)
    return MISSING if planned_at > now else PASSED
