"""The flows called for real on the test harness: a small round from open to assemble."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import CLOCK, PARTIES, ROUND_ID, deliver_reply, write_round_file

pytestmark = pytest.mark.usefixtures("prefect_harness")


def outbox_rows(purpose: str) -> list[Any]:
    from sqlalchemy import select

    from flows.adapters.db.tables import OutboxRow
    from flows.runtime import get_app

    with get_app().db.transaction() as session:
        rows = list(session.scalars(select(OutboxRow).where(OutboxRow.purpose == purpose)))
        session.expunge_all()
    return rows


def runs_named(name: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        return list(client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))))


def latest_artifact(key: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, f"no artifact with key {key}"
    return found[0]


def test_a_round_from_open_to_assemble(data_dir: Path, tmp_path: Path) -> None:
    from flows.assemble import assemble
    from flows.close_round import close_round
    from flows.collect import collect
    from flows.invite import invite
    from flows.open_round import open_round

    round_file = write_round_file(tmp_path / "round")
    opened = open_round(str(round_file), now=CLOCK["open"])
    assert opened["outcome"] == "created"
    assert opened["schedule"]["scheduled"] == []  # the harness serves no deployments: nothing to schedule

    invited = invite(ROUND_ID, now=CLOCK["invite"])
    assert invited["sent"] == len(PARTIES)

    received = datetime.fromisoformat("2025-10-20T10:00:00+02:00")
    deliver_reply(
        data_dir / "inbox", PARTIES["Foreningen Alfa"], ROUND_ID, "Vi har ingen bemærkninger.", received
    )
    collected = collect(ROUND_ID, now=CLOCK["collect"])
    assert collected["stored"] == 1
    assert collected["responses"] == 1
    again = collect(ROUND_ID, now=CLOCK["collect"])  # a second run doubles nothing
    assert again["stored"] == 0

    closed = close_round(ROUND_ID, now=CLOCK["close"])
    assert closed["closed_at"]
    outputs = assemble(ROUND_ID, now=CLOCK["assemble"])
    assert Path(outputs["log"]).is_file()
    assert Path(outputs["note"]).is_file()

    from flows.conclude import conclude

    concluded = conclude(ROUND_ID, outputs["note"], now=CLOCK["assemble"])
    assert (concluded["recipients"], concluded["sent"]) == (1, 1)
    assert conclude(ROUND_ID, outputs["note"], now=CLOCK["assemble"])["sent"] == 0  # once per address
    assert [r.address for r in outbox_rows("conclusion")] == [PARTIES["Foreningen Alfa"]]

    for step in ("open", "invite", "collect", "close", "assemble", "conclude"):
        name = f"{step} · {ROUND_ID}"
        runs = runs_named(name)
        assert runs, f"no run named {name!r}"
        assert all(f"round:{ROUND_ID}" in run.tags for run in runs), name
        assert all(run.state is not None and run.state.is_completed() for run in runs), name

    table = latest_artifact(f"{ROUND_ID}-parter")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {row["Høringspart"] for row in rows} == set(PARTIES)
    progress = latest_artifact(f"{ROUND_ID}-fremdrift")
    assert float(progress.data) == pytest.approx(50.0)
    summary = latest_artifact(f"{ROUND_ID}-oversigt")
    assert "hoeringslog.xlsx" in summary.data
    assert "Rettidige svar | 1" in summary.data

    # The public record's commands are flow runs too: trace, export, and the daily purge.
    from flows.export import export
    from flows.purge import purge
    from flows.trace import trace

    chain = trace(ROUND_ID, f"{ROUND_ID}-0001", now=CLOCK["assemble"])
    assert chain["intact"] and Path(chain["path"]).is_file()
    assert Path(export(ROUND_ID, str(tmp_path / "esdh"), now=CLOCK["assemble"])["zip"]).is_file()
    assert list(purge(now="2030-11-01T08:00:00+01:00")["purged"]) == [ROUND_ID]  # no round named
    assert not Path(chain["path"]).exists()
    for name in (f"trace · {ROUND_ID}", f"export · {ROUND_ID}", "purge · alle høringer"):
        runs = runs_named(name)
        assert runs and all(run.state is not None and run.state.is_completed() for run in runs), name


def test_a_failed_run_mails_the_rounds_contact(data_dir: Path, tmp_path: Path) -> None:
    from flows.close_round import close_round
    from flows.open_round import open_round

    open_round(str(write_round_file(tmp_path / "round")), now=CLOCK["open"])
    state = close_round(ROUND_ID, now=CLOCK["collect"], return_state=True)  # before the deadline: refused
    assert state.is_failed()
    alerts = outbox_rows("failure_alert")
    assert len(alerts) == 1
    assert alerts[0].address == "hoering@kk.example"  # no contact in the file: the reply-to address gets it
    assert alerts[0].state == "sent"
    assert "close" in alerts[0].subject


def test_a_transient_fetch_error_is_retried(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.collect as collect_module
    from flows.open_round import open_round
    from flows.services import collecting

    open_round(str(write_round_file(tmp_path / "round")), now=CLOCK["open"])
    real_fetch = collecting.fetch
    calls = {"n": 0}

    def flaky_fetch(app: Any, on_stored: Any = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("the mail server refused the connection")
        return real_fetch(app, on_stored=on_stored)

    monkeypatch.setattr(collecting, "fetch", flaky_fetch)
    # Same retry rule, no waiting: the backoff itself is Prefect's and not what is tested here.
    monkeypatch.setattr(
        collect_module, "fetch_raw", collect_module.fetch_raw.with_options(retry_delay_seconds=0)
    )
    result = collect_module.collect(ROUND_ID, now=CLOCK["collect"])
    assert calls["n"] == 2
    assert result["fetched"] == 0


def test_a_permanent_error_fails_fast(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.collect as collect_module
    from flows.open_round import open_round
    from flows.services import collecting

    open_round(str(write_round_file(tmp_path / "round")), now=CLOCK["open"])
    calls = {"n": 0}

    def bad_password(app: Any, on_stored: Any = None) -> Any:
        calls["n"] += 1
        raise PermissionError("login refused: wrong user name or password")

    monkeypatch.setattr(collecting, "fetch", bad_password)
    monkeypatch.setattr(
        collect_module, "fetch_raw", collect_module.fetch_raw.with_options(retry_delay_seconds=0)
    )
    state = collect_module.collect(ROUND_ID, now=CLOCK["collect"], return_state=True)
    assert state.is_failed()
    assert calls["n"] == 1
    assert state.message


def test_reminders_the_mail_server_did_not_take_fail_the_run_with_when_to_retry(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No SMTP server: `remind` does not end as done; its state says how many wait and for when."""
    from flows.invite import invite
    from flows.open_round import open_round
    from flows.remind import remind
    from tests.support.smtpserver import free_port

    open_round(str(write_round_file(tmp_path / "round")), now=CLOCK["open"])
    invite(ROUND_ID, now=CLOCK["invite"])  # to the .eml outbox: both parties invited
    monkeypatch.setenv("HOERING_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody listens
    monkeypatch.setenv("HOERING_SEND_RATE_PER_MINUTE", "0")
    state = remind(ROUND_ID, now="2025-10-22T08:00:00+02:00", return_state=True)  # the 3-day one is due

    assert state.is_failed()
    assert "2 påmindelser venter på at blive sendt, fordi mailserveren ikke kunne nås (0 sendt)" in str(
        state.message
    )
    assert "Kør hoering remind igen fra onsdag den 22. oktober 2025 kl. 08.01" in str(state.message)
    assert {r.state for r in outbox_rows("reminder")} == {"temp_failed"}
