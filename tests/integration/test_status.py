"""`hoering status` says where the round stands, without a Prefect server and with one that is down.

The server side (the round's runs and collect schedule read back from a real server) is in
tests/e2e/test_schedules_survive.py; here the database view and both forms of the output.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from flows.adapters.db.rounds import get_round
from flows.bootstrap import App, bootstrap
from flows.schedule_view import read_round_schedule
from flows.services import inviting
from flows.services.opening import open_round
from flows.services.status import record_collected, round_status
from flows.settings import Settings
from flows.status import status_lines

ROUND = """\
id = "status-runde"
title = "Strategi for værestederne"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-27T12:00:00+01:00
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
reminders = ["7d", "3d", "1d"]

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Røde Kors"
email = "kbh@roedekors.example"
"""
# 2025-10-27 is after the change to winter time (26 October): the deadline is 12.00 Copenhagen
# time, UTC+1; the 7-day reminder falls in summer time and is still 12.00 on the wall clock.


def app_at(tmp_path: Path, now: str) -> App:
    return bootstrap(Settings(data_dir=tmp_path / "var", now=datetime.fromisoformat(now)))


@pytest.fixture
def opened(tmp_path: Path) -> Path:
    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    (base / "runde.toml").write_text(ROUND, encoding="utf-8")
    app = app_at(tmp_path, "2025-10-16T09:00:00+02:00")
    open_round(app, base / "runde.toml")
    inviting.extend(app, "status-runde", "Røde Kors", datetime.fromisoformat("2025-11-03T16:00:00+01:00"))
    app.db.dispose()
    return tmp_path


def full_status(app: App, api_url: str) -> dict[str, object]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    result = round_status(app, "status-runde")
    with app.db.transaction() as session:
        rnd = get_round(session, "status-runde")
    with temporary_settings({PREFECT_API_URL: api_url}):
        result["prefect"] = read_round_schedule(rnd.id, rnd.deadline, rnd.reminders, rnd.opens)
    # What `hoering status --json` prints must survive JSON as it is.
    return dict(json.loads(json.dumps(result, ensure_ascii=False)))


def test_status_without_a_server_says_so_and_shows_deadlines_reminder_and_last_collect(opened: Path) -> None:
    app = app_at(opened, "2025-10-21T10:00:00+02:00")
    record_collected(app, "status-runde", stored=0, processed=0)
    later = app_at(opened, "2025-10-22T08:00:00+02:00")
    result = full_status(later, "")

    assert result["state"] == "open"
    assert result["deadline"] == "2025-10-27T11:00:00+00:00"
    assert result["extended_deadlines"] == [{"party": "Røde Kors", "until": "2025-11-03T15:00:00+00:00"}]
    # 7d (20 October) has passed; 3d is 24 October 12.00 summer time = 10.00 UTC.
    assert result["next_reminder"] == "2025-10-24T10:00:00+00:00"
    assert result["last_collect"] == "2025-10-21T08:00:00+00:00"
    prefect = result["prefect"]
    assert isinstance(prefect, dict)
    assert prefect["server"] is None
    assert prefect["reachable"] is False
    assert prefect["runs"] == []
    assert prefect["next_collect"] is None

    lines = status_lines(result)
    assert lines[:5] == [
        "Strategi for værestederne (status-runde)",
        "Høringen er åben. Frist: mandag den 27. oktober 2025 kl. 12.00",
        "Forlænget frist: Røde Kors til mandag den 3. november 2025 kl. 16.00",
        "Næste påmindelse: fredag den 24. oktober 2025 kl. 12.00",
        "Seneste indsamling: 21.10.2025 kl. 10.00",
    ]
    assert lines[5].startswith("Prefect-server: ingen (PREFECT_API_URL er tom).")
    assert "kør hoering collect, remind og close selv" in lines[5]


def test_status_with_a_server_that_does_not_answer_still_shows_the_round(
    opened: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_at(opened, "2025-10-22T08:00:00+02:00")
    monkeypatch.setenv("PREFECT_CLIENT_MAX_RETRIES", "0")
    result = full_status(app, "http://127.0.0.1:9/api")  # discard port: nothing listens

    prefect = result["prefect"]
    assert isinstance(prefect, dict)
    assert prefect["server"] == "http://127.0.0.1:9/api"
    assert prefect["reachable"] is False
    assert str(prefect["reason"]).startswith("Prefect-serveren svarer ikke")
    assert result["last_collect"] is None
    lines = status_lines(result)
    assert "Seneste indsamling: ingen endnu" in lines
    assert any(
        line.startswith("Prefect-server: http://127.0.0.1:9/api – Prefect-serveren svarer ikke")
        for line in lines
    )


def test_a_closed_round_says_closed_and_has_no_next_reminder(opened: Path) -> None:
    from flows.services.closing import mark_closed

    app = app_at(opened, "2025-10-27T13:00:00+01:00")
    mark_closed(app, "status-runde")
    result = full_status(app, "")
    assert result["state"] == "closed"
    assert result["next_reminder"] is None
    assert status_lines(result)[1] == (
        "Høringen er lukket (27.10.2025 kl. 13.00). Frist: mandag den 27. oktober 2025 kl. 12.00"
    )
