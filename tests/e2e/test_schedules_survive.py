"""A round's schedules survive a restart of serve.py and a re-deploy of prefect.yaml (real server).

serve.py runs in a subprocess against a prefect server of this module's own (tests/support/
prefect_server.py: the deployments it registers are the ones test_served_round serves); the round is
opened through the API, then serve.py is stopped and started again (and, separately, prefect.yaml
is deployed again), and the round's collect schedule and planned runs are read back through the
API. What was deleted while serve.py was down comes back, with an event in hoering's database.

Needs HOERING_TEST_PREFECT_API_URL (tests/services/prefect.sh sets it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.prefect_server import PrefectServer

API_URL = os.environ.get("HOERING_TEST_PREFECT_API_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.timeout(1200),  # serve.py starts three times; a `prefect deploy` takes a minute alone
    pytest.mark.skipif(
        not API_URL,
        reason="HOERING_TEST_PREFECT_API_URL is unset: run `make test`, which starts a prefect server",
    ),
]


def round_toml(round_id: str, opens: datetime, deadline: datetime) -> str:
    return f"""id = "{round_id}"
title = "Strategi for samarbejde"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = {opens.isoformat()}
deadline = {deadline.isoformat()}
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]

[[parties]]
name = "Foreningen Alfa"
email = "alfa@example.org"
"""


class Serve:
    """serve.py as an operator runs it: started, stopped with SIGTERM, started again."""

    def __init__(self, base: Path, api_url: str) -> None:
        self.base = base
        self.api_url = api_url
        self.env = {
            **os.environ,
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(base / "prefect-home"),
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "HOERING_DATA_DIR": str(base / "var"),
        }
        for name in ("HOERING_DATABASE_URL", "HOERING_SMTP_URL", "HOERING_INBOX_URL", "HOERING_NOW"):
            self.env.pop(name, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        from prefect.client.orchestration import get_client
        from prefect.exceptions import ObjectNotFound

        from flows.schedules import DEPLOYMENTS

        self.starts += 1
        log = self.base / f"serve-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "deployments" / "serve.py")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 180
        with get_client(sync_client=True) as client:
            for name in DEPLOYMENTS.values():
                while True:
                    assert self.process.poll() is None, f"serve.py exited: {log.read_text()[-3000:]}"
                    try:
                        client.read_deployment_by_name(name)
                        break
                    except ObjectNotFound:
                        assert time.monotonic() < deadline, f"{name} was never registered"
                        time.sleep(0.5)
        # serve.py checks the rounds after registering and before polling; its log says when.
        while "Schedule check:" not in log.read_text(errors="replace"):
            assert self.process.poll() is None, f"serve.py exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no schedule check: {log.read_text()[-3000:]}"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def check(self) -> str:
        """`python deployments/serve.py --check`, the check alone, as after a `prefect deploy`."""
        done = subprocess.run(
            [sys.executable, str(ROOT / "deployments" / "serve.py"), "--check"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            timeout=300,
            check=True,
        )
        return done.stdout.decode()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A server of this module's own: serve.py registers the same deployments test_served_round's
    does, and two serve.py on one server would take each other's runs when modules run at once.
    Its scheduler plans runs every 5 s instead of 60 s, so the test need not wait a minute."""
    server = PrefectServer(
        tmp_path_factory.mktemp("prefect-server") / "prefect",
        {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client_settings(own_server: PrefectServer) -> Iterator[str]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: own_server.url}):
        yield own_server.url


@pytest.fixture
def serve(tmp_path: Path, client_settings: str) -> Iterator[Serve]:
    runner = Serve(tmp_path, client_settings)
    try:
        yield runner
    finally:
        runner.stop()


def open_round(serve: Serve, round_id: str, deadline: datetime) -> None:
    from prefect.deployments import run_deployment

    from flows.schedules import DEPLOYMENTS

    base = serve.base / round_id
    base.mkdir(parents=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    path = base / "runde.toml"
    path.write_text(round_toml(round_id, deadline - timedelta(days=6), deadline), encoding="utf-8")
    flow_run = run_deployment(
        DEPLOYMENTS["open"], parameters={"round_file": str(path)}, timeout=240, poll_interval=1
    )
    assert flow_run.state is not None
    assert flow_run.state.is_completed(), flow_run.state.message


def collect_deployment_id() -> Any:
    from prefect.client.orchestration import get_client

    from flows.schedules import DEPLOYMENTS

    with get_client(sync_client=True) as client:
        return client.read_deployment_by_name(DEPLOYMENTS["collect"]).id


def round_schedules(round_id: str) -> list[tuple[str, str, bool, dict[str, Any]]]:
    """(slug, cron and timezone, active, parameters) of the round's schedules on collect."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_deployment_schedules(collect_deployment_id())
    return [
        (s.slug, f"{s.schedule.cron} {s.schedule.timezone}", s.active, s.parameters)
        for s in found
        if s.slug == f"collect-{round_id}"
    ]


def planned_runs(round_id: str) -> set[tuple[str, datetime, str]]:
    """(name, expected start, state) of the round's scheduled runs, read back from the API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"round:{round_id}"]))
        )
    return {
        (r.name, r.expected_start_time, r.state_type.value)
        for r in runs
        if (r.idempotency_key or "").startswith(f"hoering:{round_id}:")
    }


def expected_runs(round_id: str, deadline: datetime) -> set[tuple[str, datetime, str]]:
    return {
        (f"remind · {round_id}", deadline - timedelta(days=3), "SCHEDULED"),
        (f"remind · {round_id}", deadline - timedelta(days=1), "SCHEDULED"),
        (f"close · {round_id}", deadline, "SCHEDULED"),
        (f"assemble · {round_id}", deadline + timedelta(minutes=30), "SCHEDULED"),
    }


def events(serve: Serve, round_id: str) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(serve.base / "var" / "hoering.sqlite3") as db:
        rows = db.execute(
            "SELECT kind, json_extract(detail, '$.run') FROM events "
            "WHERE round_id = ? AND step = 'schedule' ORDER BY id",
            (round_id,),
        ).fetchall()
    return [(str(kind), str(step)) for kind, step in rows]


def delete_close_run_and_collect_schedule(round_id: str) -> None:
    """What a re-deploy that replaces schedules, or a hand in the dashboard, leaves behind."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"round:{round_id}"]))
        )
        closes = [r for r in runs if r.name == f"close · {round_id}"]
        assert len(closes) == 1
        client.delete_flow_run(closes[0].id)
        deployment_id = collect_deployment_id()
        for schedule in client.read_deployment_schedules(deployment_id):
            if schedule.slug == f"collect-{round_id}":
                client.delete_deployment_schedule(deployment_id, schedule.id)


def schedule_ids() -> set[Any]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {s.id for s in client.read_deployment_schedules(collect_deployment_id())}


def add_unslugged_schedule() -> Any:
    """A schedule as the dashboard makes one: no slug. Prefect then drops every schedule of the
    deployment when a registration sends an empty schedule list (what serve.py used to send)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    with get_client(sync_client=True) as client:
        created = client.create_deployment_schedules(
            collect_deployment_id(),
            [
                DeploymentScheduleCreate(
                    schedule=CronSchedule(cron="0 6 1 1 *", timezone="Europe/Copenhagen"),
                    active=False,
                    parameters={"round_id": "operators-own"},
                )
            ],
        )
    return created[0].id


def cleanup(round_id: str, extra_schedule: Any | None = None) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    from flows.schedules import unschedule_collect

    unschedule_collect(round_id)
    with get_client(sync_client=True) as client:
        for flow_run in client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"round:{round_id}"]))
        ):
            client.delete_flow_run(flow_run.id)
        if extra_schedule is not None and extra_schedule in schedule_ids():
            client.delete_deployment_schedule(collect_deployment_id(), extra_schedule)


def status_reads_the_runs_back(serve: Serve, round_id: str, deadline: datetime) -> None:
    """`hoering status --json` against the server: the runs, the schedule and the next collection."""
    import json

    from flows.schedule_view import read_round_schedule
    from flows.status import status_lines

    # The server's scheduler adds the collect schedule's runs within its loop (5 s on own_server).
    wait_until = time.monotonic() + 180
    while not read_round_schedule(round_id, deadline, ["3d", "1d"], deadline - timedelta(days=6))[
        "next_collect"
    ]:
        assert time.monotonic() < wait_until, "the scheduler never planned a collect run"
        time.sleep(2)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hoering"), "status", "--json", round_id],
        cwd=ROOT,
        env=serve.env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    result = json.loads(done.stdout)
    prefect = result["prefect"]
    assert (result["state"], prefect["server"], prefect["reachable"]) == ("open", serve.api_url, True)
    assert prefect["collect_schedule"] == "active"
    next_collect = datetime.fromisoformat(prefect["next_collect"])
    assert next_collect > datetime.now(UTC) - timedelta(minutes=15)
    assert next_collect.minute % 15 == 0
    assert [(r["step"], datetime.fromisoformat(r["at"]), r["state"]) for r in prefect["runs"]] == [
        ("remind", deadline - timedelta(days=3), "SCHEDULED"),
        ("remind", deadline - timedelta(days=1), "SCHEDULED"),
        ("close", deadline, "SCHEDULED"),
        ("assemble", deadline + timedelta(minutes=30), "SCHEDULED"),
    ]
    assert datetime.fromisoformat(prefect["next_reminder_run"]) == deadline - timedelta(days=3)
    assert datetime.fromisoformat(prefect["close"]["at"]) == deadline
    lines = status_lines(result)
    assert f"Prefect-server: {serve.api_url}" in lines
    assert any(line.startswith("  Indsamling hvert kvarter; næste ") for line in lines)
    assert any(line.startswith("  Lukning: ") and line.endswith(", planlagt") for line in lines)


def test_a_restart_of_serve_keeps_the_rounds_schedules_and_puts_back_what_went_missing(
    serve: Serve,
) -> None:
    round_id = f"e2e-keep-{uuid.uuid4().hex[:6]}"
    deadline = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    extra = None
    serve.start()
    try:
        open_round(serve, round_id, deadline)
        collect = [(f"collect-{round_id}", "*/15 * * * * Europe/Copenhagen", True, {"round_id": round_id})]
        assert round_schedules(round_id) == collect
        assert planned_runs(round_id) == expected_runs(round_id, deadline)
        extra = add_unslugged_schedule()

        serve.stop()
        serve.start()  # registers every deployment again
        assert round_schedules(round_id) == collect
        assert planned_runs(round_id) == expected_runs(round_id, deadline)
        # Kept by Prefect itself, the dashboard's schedule too: the check had nothing to put back.
        assert [kind for kind, _ in events(serve, round_id) if kind == "restored"] == []
        assert extra in schedule_ids()

        serve.stop()
        delete_close_run_and_collect_schedule(round_id)
        assert round_schedules(round_id) == []
        serve.start()  # the start-up check finds both missing and creates them again
        assert round_schedules(round_id) == collect
        assert planned_runs(round_id) == expected_runs(round_id, deadline)
        recorded = events(serve, round_id)
        assert recorded.count(("restored", "close")) == 1
        assert recorded.count(("restored", "collect")) == 1
        assert ("restored", "remind") not in recorded  # only what was missing
        status_reads_the_runs_back(serve, round_id, deadline)
    finally:
        serve.stop()
        cleanup(round_id, extra)


def test_a_redeploy_of_prefect_yaml_keeps_them_and_the_check_puts_back_what_went_missing(
    serve: Serve,
) -> None:
    round_id = f"e2e-deploy-{uuid.uuid4().hex[:6]}"
    deadline = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    serve.start()
    try:
        open_round(serve, round_id, deadline)
        serve.stop()
        env = {**serve.env}
        subprocess.run(
            ["prefect", "work-pool", "create", "hoering", "--type", "process"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
            check=False,  # it may exist already
        )
        deployed = subprocess.run(
            ["prefect", "--no-prompt", "deploy", "--all", "--prefect-file", "deployments/prefect.yaml"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=600,
            check=False,
        )
        assert deployed.returncode == 0, deployed.stdout.decode()[-3000:] + deployed.stderr.decode()[-3000:]
        collect = [(f"collect-{round_id}", "*/15 * * * * Europe/Copenhagen", True, {"round_id": round_id})]
        assert round_schedules(round_id) == collect
        assert planned_runs(round_id) == expected_runs(round_id, deadline)

        delete_close_run_and_collect_schedule(round_id)
        serve.check()  # what the operators' guide says to run after `prefect deploy`
        assert round_schedules(round_id) == collect
        assert planned_runs(round_id) == expected_runs(round_id, deadline)
        assert events(serve, round_id).count(("restored", "close")) == 1
    finally:
        cleanup(round_id)
        _forget_work_pool_deployments()


def _forget_work_pool_deployments() -> None:
    """Put the module's server back as serve.py left it: the next serve.py registers anew."""
    from prefect.client.orchestration import get_client

    from flows.schedules import DEPLOYMENTS

    with get_client(sync_client=True) as client:
        for name in DEPLOYMENTS.values():
            deployment = client.read_deployment_by_name(name)
            if deployment.work_pool_name == "hoering":
                client.delete_deployment(deployment.id)
