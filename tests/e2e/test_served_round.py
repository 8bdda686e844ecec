"""End to end on the real prefect server the test command starts: serve.py runs the deployments,
the test drives a round through the API and reads back states, names, tags and artifacts.

Needs HOERING_TEST_PREFECT_API_URL (tests/services/prefect.sh sets it). The transient IMAP failure
also needs HOERING_TEST_IMAP_URL (an IMAP account on the test mail server); the mail goes through a
small TCP proxy in this file that drops the first connection after being armed.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

API_URL = os.environ.get("HOERING_TEST_PREFECT_API_URL", "")
IMAP_URL = os.environ.get("HOERING_TEST_IMAP_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.skipif(
        not API_URL,
        reason="HOERING_TEST_PREFECT_API_URL is unset: run `make test`, which starts a prefect server",
    ),
]

CLOCK = {
    "open": "2025-10-15T14:00:00+02:00",
    "invite": "2025-10-16T09:00:00+02:00",
    "collect": "2025-10-22T08:00:00+02:00",
    "close": "2025-10-25T08:00:00+02:00",
    "assemble": "2025-10-25T09:00:00+02:00",
}
PARTIES = {"Foreningen Alfa": "alfa@example.org", "Beta Råd": "beta@example.org"}


def round_toml(round_id: str, opens: str, deadline: str) -> str:
    parties = "".join(f'\n[[parties]]\nname = "{n}"\nemail = "{e}"\n' for n, e in PARTIES.items())
    return f"""id = "{round_id}"
title = "Strategi for samarbejde"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = {opens}
deadline = {deadline}
reply_to = "hoering@kk.example"
contact = "sagsbehandler@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]
{parties}"""


def write_round(base: Path, round_id: str, opens: str, deadline: str) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    path = base / "runde.toml"
    path.write_text(round_toml(round_id, opens, deadline), encoding="utf-8")
    return path


def reply(sender: str, round_id: str, received: datetime) -> EmailMessage:
    message = EmailMessage()
    message["Received"] = f"from mx.example.org by imap.kk.example; {format_datetime(received)}"
    message["From"] = sender
    message["To"] = "hoering@kk.example"
    message["Subject"] = f"SV: [Høring {round_id}] Strategi for samarbejde"
    message["Date"] = format_datetime(received)
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content("Vi har ingen bemærkninger.")
    return message


class FlakyProxy:
    """A loopback TCP proxy to the IMAP server; once armed, it resets the next connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.armed = threading.Event()
        self.dropped = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if self.armed.is_set():
                self.armed.clear()
                self.dropped += 1
                # SO_LINGER 0: close with a reset, as a server falling over would.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            upstream = socket.create_connection(self.upstream, timeout=30)
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()


@pytest.fixture(scope="module")
def prefect_client_settings() -> Iterator[None]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: API_URL}):
        yield


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, prefect_client_settings: None
) -> Iterator[dict[str, Any]]:
    """serve.py in a subprocess, on a fresh data dir, until every deployment is registered."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from flows.schedules import DEPLOYMENTS

    base = tmp_path_factory.mktemp("served")
    env = {
        **os.environ,
        "PREFECT_API_URL": API_URL,
        "PREFECT_HOME": str(base / "prefect-home"),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "HOERING_DATA_DIR": str(base / "var"),
    }
    for name in (
        "HOERING_DATABASE_URL",
        "HOERING_SMTP_URL",
        "HOERING_INBOX_URL",
        "HOERING_DROP_DIR",
        "HOERING_NOW",
    ):
        env.pop(name, None)
    proxy = None
    if IMAP_URL:
        parts = urlsplit(IMAP_URL)
        proxy = FlakyProxy((parts.hostname or "127.0.0.1", parts.port or 143))
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
        env["HOERING_INBOX_URL"] = parts._replace(netloc=netloc).geturl()
    log = (base / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "deployments" / "serve.py")], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        with get_client(sync_client=True) as client:
            for name in DEPLOYMENTS.values():
                while True:
                    assert process.poll() is None, (
                        f"serve.py exited: {(base / 'serve.log').read_text()[-3000:]}"
                    )
                    try:
                        client.read_deployment_by_name(name)
                        break
                    except ObjectNotFound:
                        assert time.monotonic() < deadline, f"{name} was never registered"
                        time.sleep(0.5)
        yield {"data_dir": base / "var", "base": base, "proxy": proxy, "log": base / "serve.log"}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if proxy:
            proxy.close()


def run(step: str, round_id: str, /, **parameters: Any) -> Any:
    """Trigger a deployment through the API and wait for its final state."""
    from prefect.deployments import run_deployment

    from flows.schedules import DEPLOYMENTS

    flow_run = run_deployment(
        DEPLOYMENTS[step], parameters=parameters, timeout=240, poll_interval=1, tags=[f"round:{round_id}"]
    )
    assert flow_run.state is not None
    assert flow_run.state.is_completed(), f"{step}: {flow_run.state.type} {flow_run.state.message}"
    return flow_run


def artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, f"no artifact {key}"
    return found[0]


def deliver(served: dict[str, Any], message: EmailMessage, received: datetime) -> None:
    """Into the inbox as our server delivers it: INTERNALDATE, or the Maildir name, is ``received``."""
    if IMAP_URL:
        parts = urlsplit(IMAP_URL)
        with imaplib.IMAP4(parts.hostname or "127.0.0.1", parts.port or 143, timeout=30) as imap:
            imap.login(parts.username or "", parts.password or "")
            imap.append(
                (parts.path.strip("/") or "INBOX"),
                "",
                imaplib.Time2Internaldate(received.timestamp()),
                message.as_bytes(),
            )
        return
    new = served["data_dir"] / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    (new / f"{int(received.timestamp())}.{uuid.uuid4().hex}.mx:2,").write_bytes(message.as_bytes())


def fetch_task_runs(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return [r for r in runs if r.name.startswith("fetch and store raw")]


def test_a_round_runs_through_the_served_deployments(served: dict[str, Any]) -> None:
    round_id = f"e2e-{uuid.uuid4().hex[:8]}"
    round_file = write_round(
        served["base"] / round_id, round_id, "2025-10-16T00:00:00+02:00", "2025-10-24T23:59:59+02:00"
    )

    opened = run("open", round_id, round_file=str(round_file), now=CLOCK["open"])
    invited = run("invite", round_id, round_id=round_id, now=CLOCK["invite"])
    assert len(list((served["data_dir"] / "outbox").rglob("*.eml"))) >= len(PARTIES)

    received = datetime(2025, 10, 20, 8, tzinfo=UTC)
    deliver(served, reply(PARTIES["Foreningen Alfa"], round_id, received), received)
    if served["proxy"] is not None:
        served["proxy"].armed.set()  # the next IMAP connection is reset: the fetch task must retry
    collected = run("collect", round_id, round_id=round_id, now=CLOCK["collect"])
    if served["proxy"] is not None:
        assert served["proxy"].dropped == 1
        fetches = fetch_task_runs(collected.id)
        assert fetches
        assert fetches[0].run_count == 2
    progress = artifact(f"{round_id}-fremdrift")
    assert float(progress.data) == pytest.approx(50.0)

    closed = run("close", round_id, round_id=round_id, now=CLOCK["close"])
    assembled = run("assemble", round_id, round_id=round_id, now=CLOCK["assemble"])
    summary = artifact(f"{round_id}-oversigt")
    assert f"{round_id}-hoeringslog.xlsx" in summary.data
    assert (served["data_dir"] / "out" / round_id / f"{round_id}-hoeringsnotat.docx").is_file()

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for step, flow_run in {
            "invite": invited,
            "collect": collected,
            "close": closed,
            "assemble": assembled,
        }.items():
            stored = client.read_flow_run(flow_run.id)
            assert stored.name == f"{step} · {round_id}"
            assert f"round:{round_id}" in stored.tags
        assert f"round:{round_id}" in client.read_flow_run(opened.id).tags


def scheduled_runs(round_id: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    tags=FlowRunFilterTags(all_=[f"round:{round_id}"]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                )
            )
        )


def test_opening_schedules_the_rounds_runs_and_a_moved_deadline_moves_them(served: dict[str, Any]) -> None:
    from prefect.client.orchestration import get_client

    from flows.schedules import DEPLOYMENTS, unschedule_collect

    round_id = f"e2e-plan-{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).replace(microsecond=0)
    opens, deadline = (now - timedelta(days=1)).isoformat(), (now + timedelta(days=5)).isoformat()
    base = served["base"] / round_id
    try:
        round_file = write_round(base, round_id, opens, deadline)
        run("open", round_id, round_file=str(round_file))
        first = {(r.name, r.expected_start_time) for r in scheduled_runs(round_id)}
        assert len(first) == 4  # two reminders, close, assemble
        assert (f"close · {round_id}", now + timedelta(days=5)) in first

        run("open", round_id, round_file=str(round_file))  # again, unchanged: the same runs, no more
        assert {(r.name, r.expected_start_time) for r in scheduled_runs(round_id)} == first

        write_round(base, round_id, opens, (now + timedelta(days=6)).isoformat())
        run("open", round_id, round_file=str(round_file))
        moved = {(r.name, r.expected_start_time) for r in scheduled_runs(round_id)}
        assert len(moved) == 4
        assert (f"close · {round_id}", now + timedelta(days=6)) in moved
        assert not first & moved

        with get_client(sync_client=True) as client:
            collect_id = client.read_deployment_by_name(DEPLOYMENTS["collect"]).id
            slugs = [s.slug for s in client.read_deployment_schedules(collect_id)]
        assert slugs.count(f"collect-{round_id}") == 1
    finally:
        unschedule_collect(round_id)
        with get_client(sync_client=True) as client:
            for flow_run in scheduled_runs(round_id):
                client.delete_flow_run(flow_run.id)
