"""prefect.yaml and serve.py checked without a server: entrypoints, parameters, schedules, DST."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from flows import schedules
from flows.schedules import COLLECT_CRON, DEPLOYMENTS, TIMEZONE, plan_round

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
CPH = ZoneInfo(TIMEZONE)
SCHEDULE_KEYS = ("cron", "interval", "rrule", "timezone", "anchor_date", "day_or")


def yaml_deployments() -> list[dict[str, Any]]:
    return list(SPEC["deployments"])


def load_serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hoering_serve", ROOT / "deployments" / "serve.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_yaml_names_the_same_deployments_as_serve() -> None:
    names = {d["name"] for d in yaml_deployments()}
    assert names == {full.split("/")[1] for full in DEPLOYMENTS.values()}
    assert all(d["work_pool"]["name"] == "hoering" for d in yaml_deployments())


@pytest.mark.parametrize("deployment", yaml_deployments(), ids=lambda d: d["name"])
def test_entrypoint_loads_and_parameters_match(
    deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.flows import load_flow_from_entrypoint

    monkeypatch.chdir(ROOT)  # entrypoints are relative to the repo root, as `prefect deploy` reads them
    flow = load_flow_from_entrypoint(deployment["entrypoint"], use_placeholder_flow=False)
    assert f"{flow.name}/{deployment['name']}" in DEPLOYMENTS.values()
    properties = set(flow.parameters.properties)
    assert set(deployment.get("parameters") or {}) <= properties
    for schedule in deployment.get("schedules") or []:
        assert set(schedule.get("parameters") or {}) <= properties
    if deployment["name"] in {"remind", "collect", "close", "assemble"}:
        # The runs a round schedules for itself pass exactly this.
        assert "round_id" in flow.parameters.required


def all_schedules() -> list[dict[str, Any]]:
    found = list(SPEC["definitions"]["schedules"].values())
    for deployment in yaml_deployments():
        found += deployment.get("schedules") or []
    return found


@pytest.mark.parametrize("schedule", all_schedules())
def test_schedules_parse(schedule: dict[str, Any]) -> None:
    from prefect.client.schemas.schedules import construct_schedule

    parsed = construct_schedule(**{k: schedule[k] for k in SCHEDULE_KEYS if k in schedule})
    assert getattr(parsed, "timezone", None) == TIMEZONE


def test_yaml_collect_schedule_is_the_one_rounds_get() -> None:
    collect = SPEC["definitions"]["schedules"]["collect_while_open"]
    assert (collect["cron"], collect["timezone"]) == (COLLECT_CRON, TIMEZONE)


def test_no_deployment_but_purge_carries_a_fixed_schedule() -> None:
    # Per-round schedules are added by `hoering open`; a yaml `schedules:` list would replace them on
    # deploy, and so would `schedules: []` (only an absent key means "keep"). No round adds any to
    # purge, which runs daily for every round.
    assert all("schedules" not in d for d in yaml_deployments() if d["name"] != "purge")


def test_deadline_after_dst_change_lands_at_the_named_hour() -> None:
    opened = datetime(2026, 10, 20, 9, 0, tzinfo=CPH)  # summer time, UTC+2
    deadline = datetime.fromisoformat("2026-11-02T12:00:00+01:00")  # after 25 October: winter time, UTC+1
    runs = {run.step: run for run in plan_round("r-dst", deadline, ["1d"], opened, opened)}
    assert runs["close"].scheduled_time == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    assert runs["close"].scheduled_time.astimezone(CPH).hour == 12
    assert runs["assemble"].scheduled_time == runs["close"].scheduled_time + schedules.ASSEMBLE_AFTER
    assert runs["remind"].scheduled_time.astimezone(CPH) == datetime(2026, 11, 1, 12, 0, tzinfo=CPH)


def test_the_same_deadline_given_in_utc_gives_the_same_runs() -> None:
    opened = datetime(2026, 10, 20, 9, 0, tzinfo=CPH)
    local = plan_round("r", datetime.fromisoformat("2026-11-02T12:00:00+01:00"), ["3d"], opened, opened)
    utc = plan_round("r", datetime(2026, 11, 2, 11, 0, tzinfo=UTC), ["3d"], opened, opened)
    assert [r.idempotency_key for r in local] == [r.idempotency_key for r in utc]


def test_a_moved_deadline_gives_new_keys_and_past_runs_are_left_out() -> None:
    opened = datetime(2026, 10, 20, 9, 0, tzinfo=CPH)
    first = plan_round("r", datetime(2026, 11, 2, 11, 0, tzinfo=UTC), ["3d", "1d"], opened, opened)
    moved = plan_round("r", datetime(2026, 11, 9, 11, 0, tzinfo=UTC), ["3d", "1d"], opened, opened)
    assert [r.step for r in first] == ["remind", "remind", "close", "assemble"]
    assert not {r.idempotency_key for r in first} & {r.idempotency_key for r in moved}
    late = plan_round(
        "r",
        datetime(2026, 11, 2, 11, 0, tzinfo=UTC),
        ["3d", "1d"],
        opened,
        datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    assert [r.step for r in late] == ["close", "assemble"]
    assert all(r.parameters == {"round_id": "r"} and r.name.endswith(" · r") for r in first)


def test_cron_schedules_follow_copenhagen_wall_clock_across_dst() -> None:
    from prefect.server.schemas.schedules import CronSchedule

    start = datetime(2026, 10, 23, tzinfo=UTC)
    daily = asyncio.run(CronSchedule(cron="0 9 * * *", timezone=TIMEZONE).get_dates(n=4, start=start))
    assert [d.astimezone(UTC).hour for d in daily] == [7, 7, 8, 8]
    quarter = asyncio.run(
        CronSchedule(cron=COLLECT_CRON, timezone=TIMEZONE).get_dates(
            n=8, start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
        )
    )
    assert all(d.astimezone(UTC).minute % 15 == 0 for d in quarter)
    gaps = {b - a for a, b in itertools.pairwise(quarter)}
    assert max(gaps) <= timedelta(hours=1, minutes=15)  # never a silent gap in collection at the change


def test_scheduling_is_a_no_op_without_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: ""}):
        report = schedules.schedule_round("r", datetime(2026, 11, 2, 11, tzinfo=UTC), ["1d"])
        assert report["scheduled"] == []
        assert "skipped" in report
        assert schedules.schedule_round_runs("r")["scheduled"] == []
        assert schedules.unschedule_collect("r") == "none"


def test_serve_builds_every_deployment_without_schedules_but_the_daily_purge() -> None:
    serve = load_serve()
    deployments = serve.build_deployments()
    assert {d.full_name for d in deployments} == set(DEPLOYMENTS.values())
    for deployment in deployments:
        assert "hoering" in deployment.tags
        if deployment.name == "purge":
            continue
        assert not deployment.schedules
        assert deployment.entrypoint is not None
        assert deployment.entrypoint.startswith("flows.")
    by_name = {d.name: d for d in deployments}
    assert by_name["collect"].concurrency_limit == 1


def test_serve_leaves_the_schedules_out_of_what_it_registers() -> None:
    # An empty list would replace the rounds' collect schedules whenever one of them lacks a slug
    # (deployments/README.md §3a); a field left out is "keep what is there".
    for deployment in load_serve().build_deployments():
        if deployment.name == "purge":  # its own daily schedule, which no round adds to
            continue
        assert "schedules" not in deployment.model_fields_set
        assert "schedules" not in deployment.model_dump(exclude_unset=True)


def test_collect_and_close_have_a_timeout() -> None:
    from flows.close_round import close_round
    from flows.collect import COLLECT_TIMEOUT_SECONDS, collect

    assert collect.timeout_seconds == COLLECT_TIMEOUT_SECONDS
    assert close_round.timeout_seconds == COLLECT_TIMEOUT_SECONDS
    assert COLLECT_TIMEOUT_SECONDS >= 3600  # a national round's collection fits well inside


def test_purge_runs_daily_in_copenhagen_time_in_serve_and_yaml() -> None:
    """The purge's one schedule, the same in serve.py and prefect.yaml: daily, Europe/Copenhagen."""
    from flows.schedules import PURGE_CRON, PURGE_SLUG

    purge = next(d for d in load_serve().build_deployments() if d.name == "purge")
    (schedule,) = purge.schedules or []
    assert (schedule.schedule.cron, schedule.schedule.timezone) == (PURGE_CRON, TIMEZONE)
    assert schedule.slug == PURGE_SLUG
    (yaml_schedule,) = next(d for d in yaml_deployments() if d["name"] == "purge")["schedules"]
    assert (yaml_schedule["cron"], yaml_schedule["timezone"], yaml_schedule["slug"]) == (
        PURGE_CRON,
        TIMEZONE,
        PURGE_SLUG,
    )
    # daily: the next runs a day apart at the same Copenhagen wall time, across the DST change
    from prefect.server.schemas.schedules import CronSchedule

    parsed = CronSchedule(cron=PURGE_CRON, timezone=TIMEZONE)
    runs = asyncio.run(parsed.get_dates(n=3, start=datetime(2026, 10, 24, tzinfo=UTC)))
    assert [r.astimezone(CPH).strftime("%d %H:%M") for r in runs] == ["24 03:30", "25 03:30", "26 03:30"]


def test_conclude_is_a_deployment_with_its_round_and_document() -> None:
    """`hoering conclude` is served and in prefect.yaml, and asks for the round and the note."""
    assert DEPLOYMENTS["conclude"] == "hoering-conclude/conclude"
    flow = load_serve().load_flows()["conclude"]
    assert set(flow.parameters.required) == {"round_id", "document"}
    entry = next(d for d in yaml_deployments() if d["name"] == "conclude")
    assert entry["entrypoint"] == "flows/conclude.py:conclude"
