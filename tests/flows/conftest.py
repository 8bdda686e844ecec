"""Flow tests run for real on one temporary Prefect server per session (the test harness).

Only tests that ask for ``prefect_harness`` pay for the server (about 8 s to start), so plain tests
that live here stay fast. Prefect 3.9's flow heartbeat (180 s by default) makes every sync flow run
join a thread that sleeps in 1 s steps, about +1 s per run; it is switched off here (notes §6.2).
It cannot be switched off from the environment, so HOERING_TEST_HEARTBEAT=1 keeps it on, to measure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

ROUND_ID = "flow-test-round"
OPENS = "2025-10-16T00:00:00+02:00"
DEADLINE = "2025-10-24T23:59:59+02:00"
CLOCK = {
    "open": "2025-10-15T14:00:00+02:00",
    "invite": "2025-10-16T09:00:00+02:00",
    "collect": "2025-10-22T08:00:00+02:00",
    "close": "2025-10-25T08:00:00+02:00",
    "assemble": "2025-10-25T09:00:00+02:00",
}
PARTIES = {"Foreningen Alfa": "alfa@example.org", "Beta Råd": "beta@example.org"}


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        if os.environ.get("HOERING_TEST_HEARTBEAT") == "1":
            yield
            return
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data dir per test, on the embedded defaults (SQLite, Maildir inbox, .eml outbox)."""
    path = tmp_path / "var"
    monkeypatch.setenv("HOERING_DATA_DIR", str(path))
    for name in (
        "HOERING_DATABASE_URL",
        "HOERING_SMTP_URL",
        "HOERING_INBOX_URL",
        "HOERING_DROP_DIR",
        "HOERING_NOW",
    ):
        monkeypatch.delenv(name, raising=False)
    return path


def write_round_file(base: Path, round_id: str = ROUND_ID, deadline: str = DEADLINE) -> Path:
    """A small round: two parties, one draft, reminders 3 and 1 days before the deadline."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n% udkast\n")
    parties = "".join(
        f'\n[[parties]]\nname = "{name}"\nemail = "{email}"\n' for name, email in PARTIES.items()
    )
    path = base / "runde.toml"
    path.write_text(
        f"""id = "{round_id}"
title = "Strategi for samarbejde"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = {OPENS}
deadline = {deadline}
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]
late_policy = "flag"
{parties}""",
        encoding="utf-8",
    )
    return path


def deliver_reply(maildir: Path, sender: str, round_id: str, text: str, received: datetime) -> Path:
    """A reply as our mail server would deliver it: topmost Received: header with our receipt time."""
    message = EmailMessage()
    message["Received"] = f"from mx.example.org by imap.kk.example; {format_datetime(received)}"
    message["From"] = sender
    message["To"] = "hoering@kk.example"
    message["Subject"] = f"SV: [Høring {round_id}] Strategi for samarbejde"
    message["Date"] = format_datetime(received)
    message["Message-ID"] = make_msgid(domain="example.org")
    message.set_content(text)
    (maildir / "new").mkdir(parents=True, exist_ok=True)
    path = maildir / "new" / f"{int(received.timestamp())}.M1P1.mx,S=1:2,"
    path.write_bytes(message.as_bytes())
    return path
