"""The runs a round schedules for itself on a Prefect server: reminders, close, assemble, collection.

``hoering open`` against a server calls ``schedule_round_runs``. It creates one scheduled run per
reminder (at the deadline minus its offset), one close run at the deadline and one assemble run
shortly after, each tagged ``round:<id>`` and with an idempotency key that holds its time: opening
the same round again returns the same runs, and a moved deadline gives new keys, so the old
scheduled runs of the round that no longer match are deleted (never two close runs). Collection
every 15 minutes is a Cron schedule on the collect deployment with the round id as its parameter
(slug ``collect-<id>``), removed again when the round closes.

The same function is the check that keeps a round's runs on the server whatever happens to it
(``ensure_rounds_scheduled``: at every start of serve.py, with ``serve.py --check``, and for its
own round at the start of every collect): it creates only what is missing, by idempotency key or
slug, and records an event for each. Runs of the current deadline whose time has passed stay in
the plan, so a late run waiting for serve.py is never deleted as stale.

Without a server (``PREFECT_API_URL`` empty) or without served deployments all of this is a no-op,
so the command line and the tests run unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flows.core.deadline import reminder_due_at
from flows.core.tags import round_tag

if TYPE_CHECKING:
    from flows.bootstrap import App

TIMEZONE = "Europe/Copenhagen"
COLLECT_CRON = "*/15 * * * *"
ASSEMBLE_AFTER = timedelta(minutes=30)
"""The close run does a final collect first; assemble waits so it reads the closed round."""

DEPLOYMENTS: dict[str, str] = {
    "open": "hoering-open/open",
    "invite": "hoering-invite/invite",
    "remind": "hoering-remind/remind",
    "collect": "hoering-collect/collect",
    "close": "hoering-close/close",
    "assemble": "hoering-assemble/assemble",
    "status": "hoering-status/status",
    "extend": "hoering-extend/extend",
    "purge": "hoering-purge/purge",
    "conclude": "hoering-conclude/conclude",
    "process-batch": "hoering-process-batch/process-batch",
}
"""``flow name/deployment name`` of every deployment; serve.py and prefect.yaml use these names."""

SCHEDULED_STEPS = ("remind", "close", "assemble")

PURGE_CRON = "30 3 * * *"
"""The purge's own daily schedule, Copenhagen time (the one deployment with a schedule of its own)."""
PURGE_SLUG = "purge-daily"

log = logging.getLogger(__name__)


NO_SERVER = "ingen Prefect-server (PREFECT_API_URL er tom)"
NO_DEPLOYMENTS = "deployments er ikke oprettet (start deployments/serve.py eller prefect deploy)"

Recorder = Callable[[str, dict[str, Any]], None]
"""Called with (step, detail) for each run or schedule created on the server."""


def collect_slug(round_id: str) -> str:
    return f"collect-{round_id}"


def key_prefix(round_id: str) -> str:
    """Every run hoering plans for a round has an idempotency key starting with this."""
    return f"hoering:{round_id}:"


@dataclass(frozen=True)
class PlannedRun:
    """One run a round wants on the server."""

    step: str
    deployment: str
    scheduled_time: datetime  # aware, UTC
    idempotency_key: str
    parameters: dict[str, Any]
    name: str


def plan_round(
    round_id: str,
    deadline: datetime,
    reminders: Sequence[str],
    opens: datetime | None = None,
    now: datetime | None = None,
) -> list[PlannedRun]:
    """The scheduled runs of a round, in time order; runs whose time has passed are left out.

    Times come from the deadline as an instant (it always carries its offset), so a deadline
    after a daylight-saving change lands at the hour it names. Reminders use the same arithmetic
    as the remind service (``reminder_due_at``): a run must never come before its reminder is due.
    """
    if deadline.tzinfo is None:
        msg = f"deadline of {round_id} has no UTC offset"
        raise ValueError(msg)
    deadline_utc = deadline.astimezone(UTC)
    wanted: list[tuple[str, datetime]] = [
        ("remind", reminder_due_at(deadline_utc, offset).astimezone(UTC)) for offset in reminders
    ]
    wanted += [("close", deadline_utc), ("assemble", deadline_utc + ASSEMBLE_AFTER)]
    earliest = opens.astimezone(UTC) if opens is not None else None
    cutoff = now.astimezone(UTC) if now is not None else None
    planned: list[PlannedRun] = []
    for step, when in sorted(wanted, key=lambda item: item[1]):
        if cutoff is not None and when <= cutoff:
            continue
        if step == "remind" and earliest is not None and when < earliest:
            continue  # a reminder before the round opens would remind nobody of anything
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        planned.append(
            PlannedRun(
                step=step,
                deployment=DEPLOYMENTS[step],
                scheduled_time=when,
                # The time is part of the key: the same deadline gives the same run, a moved one a new run.
                idempotency_key=f"{key_prefix(round_id)}{step}:{stamp}",
                parameters={"round_id": round_id},
                name=f"{step} · {round_id}",
            )
        )
    return planned


def server_configured() -> bool:
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def schedule_round(
    round_id: str,
    deadline: datetime,
    reminders: Sequence[str],
    opens: datetime | None = None,
    *,
    now: datetime | None = None,
    closed: bool = False,
    on_created: Recorder | None = None,
) -> dict[str, Any]:
    """Make the server hold exactly the runs the round wants; create only what is missing.

    Whatever is created (a run or the collect schedule) is passed to ``on_created`` with its
    step and time, so the caller can record an event for it. A closed round keeps its runs (the
    assemble run after the close must still run) and loses its collect schedule.
    """
    if not server_configured():
        return {"scheduled": [], "removed": 0, "created": [], "skipped": NO_SERVER}
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    # Every run of the current deadline, past ones included: a late run still waiting for serve.py
    # to come back is part of the plan and must not be deleted as stale.
    wanted = plan_round(round_id, deadline, reminders, opens)
    cutoff = (now or datetime.now(UTC)).astimezone(UTC)
    upcoming = [] if closed else [run for run in wanted if run.scheduled_time > cutoff]
    report: dict[str, Any] = {"scheduled": [], "removed": 0, "created": [], "missing_deployments": []}
    with get_client(sync_client=True) as client:
        deployment_ids: dict[str, Any] = {}
        for step in (*SCHEDULED_STEPS, "collect"):
            try:
                deployment_ids[step] = client.read_deployment_by_name(DEPLOYMENTS[step]).id
            except ObjectNotFound:
                report["missing_deployments"].append(DEPLOYMENTS[step])
        if not deployment_ids:
            report["skipped"] = NO_DEPLOYMENTS
            return report
        step_ids = [deployment_ids[s] for s in SCHEDULED_STEPS if s in deployment_ids]
        present = _planned_runs_on_server(client, round_id, step_ids)
        for run in upcoming:
            if run.step not in deployment_ids:
                continue
            flow_run = present.get(run.idempotency_key)
            if flow_run is None:
                flow_run = _create_scheduled_run(run, round_id)
                item = {"step": run.step, "at": run.scheduled_time.isoformat()}
                report["created"].append(item)
                if on_created is not None:
                    on_created(run.step, item)
            report["scheduled"].append(
                {"step": run.step, "at": run.scheduled_time.isoformat(), "flow_run_id": str(flow_run.id)}
            )
        report["removed"] = _remove_stale_runs(
            client, round_id, present, {run.idempotency_key for run in wanted}
        )
        if "collect" in deployment_ids:
            outcome = _sync_collect_schedule(client, deployment_ids["collect"], round_id, closed)
            report["collect_schedule"] = outcome
            if outcome == "created":
                item = {"step": "collect", "cron": COLLECT_CRON, "slug": collect_slug(round_id)}
                report["created"].append(item)
                if on_created is not None:
                    on_created("collect", item)
    log.info(
        "Round %s: %d scheduled runs (%d new), %d old runs removed.",
        round_id,
        len(report["scheduled"]),
        len(report["created"]),
        report["removed"],
    )
    return report


def _planned_runs_on_server(client: Any, round_id: str, deployment_ids: list[Any]) -> dict[str, Any]:
    """The runs hoering planned for this round on the current deployments, in any state, by key.

    Read by deployment: a deployment deleted and registered again has a new id, and the runs of
    the old one (deleted with it) must count as missing.
    """
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterTags,
    )

    if not deployment_ids:
        return {}
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[round_tag(round_id)])),
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=deployment_ids)),
        limit=200,
    )
    prefix = key_prefix(round_id)
    return {r.idempotency_key: r for r in runs if (r.idempotency_key or "").startswith(prefix)}


def _create_scheduled_run(run: PlannedRun, round_id: str) -> Any:
    from prefect.deployments import run_deployment

    return run_deployment(
        run.deployment,
        parameters=run.parameters,
        scheduled_time=run.scheduled_time,
        flow_run_name=run.name,
        timeout=0,  # create the run and return: it runs at its time, on whoever serves the deployment
        tags=["hoering", round_tag(round_id)],
        idempotency_key=run.idempotency_key,
        as_subflow=False,  # the run belongs to the round, not to the open run that created it
    )


def _remove_stale_runs(client: Any, round_id: str, present: dict[str, Any], keep: set[str]) -> int:
    """Delete the round's still-Scheduled planned runs that the current plan does not contain.

    Only runs hoering planned (their key starts ``hoering:<round>:``) are touched, never a run
    someone started by hand. Deleted, not cancelled: a cancelled run would keep its idempotency
    key, and moving the deadline back again would then find that cancelled run instead of
    scheduling a new one.
    """
    from prefect.client.schemas.objects import StateType

    removed = 0
    for key, flow_run in present.items():
        if key in keep or flow_run.state_type != StateType.SCHEDULED:
            continue
        client.delete_flow_run(flow_run.id)
        removed += 1
    return removed


def _sync_collect_schedule(client: Any, deployment_id: Any, round_id: str, closed: bool) -> str:
    """A Cron schedule on the collect deployment for this round, present exactly while it is open."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    slug = collect_slug(round_id)
    existing = [s for s in client.read_deployment_schedules(deployment_id) if s.slug == slug]
    if closed:
        for schedule in existing:
            client.delete_deployment_schedule(deployment_id, schedule.id)
        return "removed" if existing else "none"
    if existing:
        return "unchanged"
    client.create_deployment_schedules(
        deployment_id,
        [
            DeploymentScheduleCreate(
                schedule=CronSchedule(cron=COLLECT_CRON, timezone=TIMEZONE),
                active=True,
                parameters={"round_id": round_id},
                slug=slug,
            )
        ],
    )
    return "created"


def schedule_round_runs(round_id: str, now: str | None = None) -> dict[str, Any]:
    """Schedule (or move) the round's runs from what the database says; called by the open flow."""
    if not server_configured():
        return {"scheduled": [], "removed": 0, "created": [], "skipped": NO_SERVER}
    from flows.runtime import get_app

    return _schedule_from_db(get_app(now), round_id, kind="scheduled")


def _schedule_from_db(app: App, round_id: str, *, kind: str) -> dict[str, Any]:
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
    return schedule_round(
        round_id,
        rnd.deadline,
        list(rnd.reminders),
        rnd.opens,
        # Real time, not the replay clock (--now): the server starts a run whose time has passed at once.
        now=datetime.now(UTC),
        closed=rnd.closed_at is not None,
        on_created=_recorder(app, round_id, kind),
    )


def _recorder(app: App, round_id: str, kind: str) -> Recorder:
    """An event per run or schedule created: ``scheduled`` when a round is opened, ``restored``
    when a check finds it missing (after a re-serve, a re-deploy, a deleted deployment...)."""

    def record(step: str, detail: dict[str, Any]) -> None:
        with app.uow() as uow:
            rest = {key: value for key, value in detail.items() if key != "step"}
            uow.events.add(round_id, "schedule", kind, run=step, **rest)

    return record


def ensure_rounds_scheduled(app: App) -> list[dict[str, Any]]:
    """The start-up check: every open round has its collect schedule and its planned runs.

    Whatever is missing is created again and recorded as a ``restored`` event; a closed round's
    collect schedule that is still there is removed (``collect_unscheduled``). Rounds this
    database does not know are left alone: other hoering installations may share the server.
    """
    if not server_configured():
        return []
    with app.uow() as uow:
        rounds = [(r.id, r.closed_at is not None) for r in uow.rounds.all()]
    collect_slugs = _collect_slugs_on_server()
    reports = []
    for round_id, closed in rounds:
        if closed and collect_slug(round_id) not in collect_slugs:
            continue  # closed and tidy: nothing to ask the server
        report = _schedule_from_db(app, round_id, kind="restored")
        if closed and report.get("collect_schedule") == "removed":
            _recorder(app, round_id, "collect_unscheduled")("collect", {"slug": collect_slug(round_id)})
        reports.append({"round": round_id, "closed": closed, **report})
    restored = sum(len(r["created"]) for r in reports)
    log.info("Schedule check: %d rounds, %d runs or schedules restored.", len(reports), restored)
    return reports


def check_round_schedule(round_id: str, now: str | None = None) -> dict[str, Any]:
    """The same check for one round, at the start of each of its collect runs: a work pool has no
    serve.py start-up, and this puts back a deleted close run or reminder within 15 minutes.
    Never fails the collect: a problem here is logged and returned, and collection goes on."""
    if not server_configured():
        return {"created": [], "skipped": NO_SERVER}
    from flows.runtime import get_app

    try:
        return _schedule_from_db(get_app(now), round_id, kind="restored")
    except Exception as exc:
        log.warning("Round %s: the schedule check failed (%s); collecting anyway.", round_id, exc)
        return {"created": [], "error": f"{type(exc).__name__}: {exc}"}


def _collect_slugs_on_server() -> set[str]:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            deployment_id = client.read_deployment_by_name(DEPLOYMENTS["collect"]).id
        except ObjectNotFound:
            return set()
        return {s.slug for s in client.read_deployment_schedules(deployment_id) if s.slug}


def unschedule_collect(round_id: str) -> str:
    """Stop the 15-minute collection of a closed round; a no-op without a server or deployment."""
    if not server_configured():
        return "none"
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            deployment_id = client.read_deployment_by_name(DEPLOYMENTS["collect"]).id
        except ObjectNotFound:
            return "none"
        return _sync_collect_schedule(client, deployment_id, round_id, closed=True)
