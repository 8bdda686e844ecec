"""Two small closed rounds in one data dir, for the public-record tests (trace, export, purge).

``runde-a`` has an organisation that answers with a PDF attachment, a private person
(``person = true``) who answers with a CPR number and a telephone number in the text, a party
that answers "ingen bemærkninger" and an unknown sender (set aside for review). ``runde-b`` is
another round in the same database and data dir, with one response of its own that shares an
attachment's bytes with ``runde-a`` (one content-addressed blob for both rounds).
Driven through the services with the service clock, as a cron would run the commands.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from flows.bootstrap import App, bootstrap
from flows.services import assembling, collecting, ingesting, inviting
from flows.services.closing import mark_closed
from flows.services.opening import open_round
from flows.settings import Settings

ROUND = """\
id = "{id}"
title = "Strategi for værestederne ({id})"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "{id}@kk.example"
documents = ["udkast.pdf"]
reminders = []
kle = "27.00.00"
facet = "G01"
{parties}
"""
PARTIES_A = """
[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Jens Hansen"
email = "jens.hansen@borger.example"
person = true

[[parties]]
name = "Stille Forening"
email = "stille@forening.example"
"""
PARTIES_B = """
[[parties]]
name = "Røde Kors"
email = "kbh@roedekors.example"
"""
SHARED_PDF = b"%PDF-1.4\n% bilag fra Aeldreraadet\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CLOSE_AT = datetime.fromisoformat("2025-10-25T09:00:00+02:00")


def message(round_id: str, name: str, sender: str, body: str, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"{round_id}@kk.example"
    msg["Subject"] = f"SV: [Høring {round_id}] Høringssvar"
    msg["Message-ID"] = f"<{name}@test.example>"
    msg["Date"] = "Mon, 20 Oct 2025 10:00:00 +0200"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="bilag æøå.pdf")
    return msg.as_bytes()


def deliver(app: App, name: str, data: bytes, received: str) -> None:
    """Into the Maildir as our server delivers it: its Received stamp and file name agree."""
    when = datetime.fromisoformat(received)
    inbox = app.settings.resolved_data_dir / "inbox" / "new"
    inbox.mkdir(parents=True, exist_ok=True)
    stamp = f"Received: by mx.kk.example; {format_datetime(when)}\r\n".encode()
    (inbox / f"{int(when.timestamp())}.{name}.host").write_bytes(stamp + data)


def build(tmp_path: Path, database_url: str | None = None) -> App:
    """Open, invite, collect, close and assemble both rounds; return the App at the close."""
    base = tmp_path / "round"
    base.mkdir(parents=True, exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    for round_id, parties in (("runde-a", PARTIES_A), ("runde-b", PARTIES_B)):
        (base / f"{round_id}.toml").write_text(ROUND.format(id=round_id, parties=parties), encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"),
    )
    app = bootstrap(settings)
    for round_id in ("runde-a", "runde-b"):
        open_round(app, base / f"{round_id}.toml")
        inviting.invite(app, round_id)
    deliver(
        app,
        "a1",
        message("runde-a", "a1", "aeldre@raad.example", "Vi støtter flere væresteder.", SHARED_PDF),
        "2025-10-20T10:00:00+02:00",
    )
    deliver(
        app,
        "a2",
        message(
            "runde-a",
            "a2",
            "Jens Hansen <jens.hansen@borger.example>",
            "Mit cpr-nummer er 010190-1234 og I kan ringe på 12 34 56 78.\n\nVenlig hilsen\nJens Hansen",
        ),
        "2025-10-21T11:00:00+02:00",
    )
    deliver(
        app,
        "a3",
        message("runde-a", "a3", "stille@forening.example", "Ingen bemærkninger."),
        "2025-10-22T12:00:00+02:00",
    )
    deliver(
        app, "a4", message("runde-a", "a4", "ukendt@andet.example", "Hvem er I?"), "2025-10-22T13:00:00+02:00"
    )
    deliver(
        app,
        "b1",
        message("runde-b", "b1", "kbh@roedekors.example", "Røde Kors bakker op.", SHARED_PDF),
        "2025-10-23T10:00:00+02:00",
    )
    app.clock = lambda: CLOSE_AT
    collecting.fetch(app)
    for chunk in collecting.chunks(collecting.pending_raw_ids(app), 100):
        ingesting.process_batch(app, "runde-a", chunk)
    for round_id in ("runde-a", "runde-b"):
        mark_closed(app, round_id)
        assembling.assemble(app, round_id)
    return app


def at(app: App, moment: str) -> App:
    """The same App with its service clock at ``moment``."""
    when = datetime.fromisoformat(moment)
    app.clock = lambda: when
    return app


AFTER_RETENTION = "2030-10-26T08:00:00+01:00"  # close (25 Oct 2025) + P5Y, a day later
BEFORE_RETENTION = "2030-10-24T08:00:00+02:00"
LATER = timedelta(days=1)
