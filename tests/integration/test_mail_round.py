"""A round by mail through the services (no Prefect), against a real aiosmtpd and a real Dovecot.

Invitations, retries and refusals go to the aiosmtpd fixture (with its fault injection);
replies are APPENDed to a throw-away Dovecot folder and collected over IMAP, some through a
loopback proxy that cuts the connection. The clock is the App's, advanced by hand.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from flows.adapters.db.tables import AttachmentRow, OutboxRow, RawMessageRow, ResponseRow
from flows.adapters.imap_source import ImapSource, MailServerError
from flows.adapters.response_template import build_template
from flows.bootstrap import App, bootstrap
from flows.services import assembling, collecting, ingesting, inviting
from flows.services.opening import open_round
from flows.services.outbox import deliver
from flows.settings import Settings
from tests.integration.conftest import ImapMailbox
from tests.support.faultproxy import FaultProxy
from tests.support.smtpserver import Received, SmtpTestServer

pytestmark = pytest.mark.imap

ROUND_ID = "test-runde"
REPLY_TO = "hoering@kk.example"
AUTHSERV = "mx.kk.example"
ROUND = """\
id = "test-runde"
title = "Strategi for værestederne"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Røde Kors"
email = "kbh@roedekors.example"
domains = ["roedekors.example"]

[[parties]]
name = "Stille Forening"
email = "stille@forening.example"

[[parties]]
name = "Handicaprådet"
email = "formand@handicap.example;sekretariat@handicap.example"
"""
PDF = b"%PDF-1.4\n% udkast til strategien\n"
ADDRESSES = [
    "aeldre@raad.example",
    "kbh@roedekors.example",
    "stille@forening.example",
    "formand@handicap.example",
    "sekretariat@handicap.example",
]


def cph(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Clock:
    """The App's clock, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Round:
    app: App
    clock: Clock
    smtp: SmtpTestServer
    imap: ImapMailbox | None


def make_round(
    tmp_path: Path,
    smtp: SmtpTestServer | None,
    imap: ImapMailbox | None = None,
    *,
    imap_port: int | None = None,
    now: str = "2025-10-16T09:00:00+02:00",
    **settings: Any,
) -> App:
    base = tmp_path / "round"
    base.mkdir(exist_ok=True)
    (base / "udkast.pdf").write_bytes(PDF)
    (base / "runde.toml").write_text(ROUND, encoding="utf-8")
    values: dict[str, Any] = {
        "data_dir": tmp_path / "var",
        "send_rate_per_minute": 0,
        "socket_timeout": 10,
    }
    if smtp is not None:
        values["smtp_url"] = smtp.url
    if imap is not None:
        values["inbox_url"] = imap.url(imap_port)
        values["imap_processed_folder"] = imap.processed
    app = bootstrap(Settings(**(values | settings)))
    app.clock = Clock(cph(now))
    open_round(app, base / "runde.toml")
    return app


@pytest.fixture
def rnd(tmp_path: Path, smtp_server: SmtpTestServer, imap_server: ImapMailbox) -> Round:
    app = make_round(tmp_path, smtp_server, imap_server)
    assert isinstance(app.clock, Clock)
    return Round(app, app.clock, smtp_server, imap_server)


def mail(
    name: str,
    sender: str,
    body: str,
    *,
    subject: str = "SV: [Høring test-runde] Strategi for værestederne",
    headers: list[tuple[str, str]] | None = None,
    top: list[str] | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> bytes:
    """A reply as our server stores it; ``top`` lines go above everything (our MX's headers)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = REPLY_TO
    message["Subject"] = subject
    message["Date"] = "Mon, 01 Jan 2001 00:00:00 +0000"  # never the receipt time
    message["Message-ID"] = f"<{name}@afsender.example>"
    for key, value in headers or []:
        message[key] = value
    message.set_content(body)
    for filename, data, content_type in attachments or []:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    head = "".join(f"{line}\r\n" for line in top or []).encode()
    return head + message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def received_by_us(when: str) -> str:
    return f"Received: from mail.afsender.example by {AUTHSERV}; {format_datetime(cph(when))}"


def collect(app: App) -> collecting.FetchReport:
    report = collecting.fetch(app)
    for chunk in collecting.chunks(collecting.pending_raw_ids(app), 100):
        ingesting.process_batch(app, ROUND_ID, chunk)
    return report


def count(app: App, table: type, *where: Any) -> int:
    with app.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def responses(app: App) -> list[ResponseRow]:
    with app.db.transaction() as session:
        rows = list(session.scalars(select(ResponseRow).order_by(ResponseRow.number)))
        session.expunge_all()
        return rows


def outbox(app: App, purpose: str) -> dict[str, OutboxRow]:
    with app.db.transaction() as session:
        rows = list(session.scalars(select(OutboxRow).where(OutboxRow.purpose == purpose)))
        session.expunge_all()
        return {r.address: r for r in rows}


def sent_to(smtp: SmtpTestServer, subject_part: str) -> list[str]:
    return [r.rcpt_tos[0] for r in smtp.received if subject_part in str(r.message["Subject"])]


def messages_to(smtp: SmtpTestServer, address: str, subject_part: str) -> list[Received]:
    return [r for r in smtp.received if r.rcpt_tos == [address] and subject_part in str(r.message["Subject"])]


def body(received: Received) -> str:
    part = received.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def sheet_rows(log: Path, sheet: str) -> list[dict[str, Any]]:
    ws = load_workbook(log)[sheet]
    header = [str(c.value) for c in ws[1]]
    return [
        dict(zip(header, row, strict=False)) for row in ws.iter_rows(min_row=2, values_only=True) if any(row)
    ]


def party_status(app: App, tmp_path: Path) -> dict[str, str]:
    report = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    return {row["Høringspart"]: row["Status"] for row in sheet_rows(report.log, "Høringsparter")}


def send_follow_ups(app: App) -> None:
    deliver(app, ROUND_ID, purposes=("receipt", "template_rejected"))


# --------------------------------------------------------------------------------------------
# invitations


def test_invitations_arrive_once_with_headers_and_attachments(rnd: Round) -> None:
    """Invite twice: each address gets exactly one invitation with the reply token, headers, PDF and template."""
    first = inviting.invite(rnd.app, ROUND_ID)
    second = inviting.invite(rnd.app, ROUND_ID)

    assert (first.delivery.sent, second.queued, second.delivery.sent) == (5, 0, 0)
    assert sorted(r for m in rnd.smtp.received for r in m.rcpt_tos) == sorted(ADDRESSES)
    names = {"aeldre@raad.example": "Ældrerådet", "formand@handicap.example": "Handicaprådet"}
    for item in rnd.smtp.received:
        message = item.message
        assert f"[Høring {ROUND_ID}]" in str(message["Subject"])
        assert str(message["Reply-To"]) == REPLY_TO
        assert str(message["Auto-Submitted"]) == "auto-generated"
        assert str(message["X-Auto-Response-Suppress"]) == "All"
        files = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
        assert files.get("udkast.pdf") == PDF
        template = files[f"hoeringsskema-{ROUND_ID}.xlsx"]
        if item.rcpt_tos[0] in names:
            sheet = load_workbook(io.BytesIO(template))["Høringssvar"]
            assert sheet["A2"].value == "Høringspart"
            assert sheet["B2"].value == names[item.rcpt_tos[0]]
    rows = outbox(rnd.app, "invitation")
    assert all(r.state == "sent" and r.attempts == 1 for r in rows.values())
    # what the records system gets (the case file's udgaaende/) is what the server received
    wire = {m.rcpt_tos[0]: m.data for m in rnd.smtp.received}
    assert {a: Path(r.location or "").read_bytes() for a, r in rows.items()} == wire


def test_421_and_451_then_success_sends_once(rnd: Round) -> None:
    """A 421 and a 451 leave the rows for a retry at their backoff; the next due run sends each once."""
    rnd.smtp.fail_rcpt("aeldre@raad.example", "421 4.7.0 Try again later, closing connection")
    rnd.smtp.fail_rcpt("kbh@roedekors.example", "451 4.3.0 Mailbox temporarily unavailable")

    first = inviting.invite(rnd.app, ROUND_ID)
    rows = outbox(rnd.app, "invitation")
    assert (first.delivery.sent, first.delivery.temp_failed) == (3, 2)
    assert rows["aeldre@raad.example"].state == rows["kbh@roedekors.example"].state == "temp_failed"
    assert rows["kbh@roedekors.example"].last_code == 451

    not_yet = deliver(rnd.app, ROUND_ID)  # backoff not over: nothing is due
    rnd.clock.advance(hours=2)
    retry = deliver(rnd.app, ROUND_ID)
    again = deliver(rnd.app, ROUND_ID)

    assert (not_yet.sent, retry.sent, again.sent) == (0, 2, 0)
    assert sorted(r for m in rnd.smtp.received for r in m.rcpt_tos) == sorted(ADDRESSES)
    rows = outbox(rnd.app, "invitation")
    assert {
        a: (r.state, r.attempts)
        for a, r in rows.items()
        if a in ("aeldre@raad.example", "kbh@roedekors.example")
    } == {
        "aeldre@raad.example": ("sent", 2),
        "kbh@roedekors.example": ("sent", 2),
    }
    assert not any(r.possible_duplicate for r in rows.values())


def test_550_is_perm_failed_and_shown_in_the_log(rnd: Round, tmp_path: Path) -> None:
    """A 550 is perm_failed with its code and text, never retried, and the party shows as not delivered."""
    rnd.smtp.fail_rcpt("stille@forening.example", "550 5.1.1 <stille@forening.example>: No such user")

    report = inviting.invite(rnd.app, ROUND_ID)
    rnd.clock.advance(days=1)
    inviting.invite(rnd.app, ROUND_ID)

    row = outbox(rnd.app, "invitation")["stille@forening.example"]
    assert report.delivery.perm_failed == 1
    assert (row.state, row.last_code, row.attempts) == ("perm_failed", 550, 1)
    assert "No such user" in (row.last_text or "")
    assert report.delivery.failures[0]["address"] == "stille@forening.example"
    assert "stille@forening.example" not in [r for m in rnd.smtp.received for r in m.rcpt_tos]
    statuses = party_status(rnd.app, tmp_path)
    assert statuses["Stille Forening"] == "Invitation ikke leveret"
    assert statuses["Ældrerådet"] == "Ikke svaret"


def test_partial_refusal_is_recorded_per_address(rnd: Round, tmp_path: Path) -> None:
    """One of a party's two addresses refused: that row is perm_failed, the other sent, the party invited."""
    rnd.smtp.fail_rcpt("sekretariat@handicap.example", "550 5.1.1 Recipient address rejected")

    report = inviting.invite(rnd.app, ROUND_ID)

    rows = outbox(rnd.app, "invitation")
    assert (report.delivery.sent, report.delivery.perm_failed) == (4, 1)
    assert rows["sekretariat@handicap.example"].state == "perm_failed"
    assert rows["sekretariat@handicap.example"].last_code == 550
    assert rows["formand@handicap.example"].state == "sent"
    assert messages_to(rnd.smtp, "formand@handicap.example", "[Høring")
    assert party_status(rnd.app, tmp_path)["Handicaprådet"] == "Ikke svaret"


# --------------------------------------------------------------------------------------------
# collecting over IMAP


def _long_reply(n: int) -> str:
    line = f"Svar nummer {n}: vi ønsker flere væresteder og længere åbningstider i bydelene. "
    return line * 250  # about 20 kB, so a FETCH of two spans many TCP segments


def test_cut_mid_fetch_then_rerun_has_every_message_once(
    tmp_path: Path, smtp_server: SmtpTestServer, imap_server: ImapMailbox
) -> None:
    """The IMAP connection cut inside a FETCH fails the run; the rerun stores every reply exactly once."""
    senders = ["aeldre@raad.example", "kbh@roedekors.example", "stille@forening.example"]
    imap_server.append(
        *(mail(f"lang{n}", senders[n % 3], _long_reply(n)) for n in range(6)),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    with FaultProxy(imap_server.host, imap_server.port) as proxy:
        app = make_round(tmp_path, smtp_server, imap_server, imap_port=proxy.port, imap_batch=2)
        proxy.cut_after(60_000)  # past login and the first batch of two, inside the second
        with pytest.raises(MailServerError):
            collect(app)
        assert proxy.cuts == 1
        assert 0 < count(app, RawMessageRow) < 6
        proxy.cut_after(None)
        collect(app)
        collect(app)

    assert count(app, RawMessageRow) == 6
    ids = sorted(r.message_id or "" for r in responses(app))
    assert ids == sorted(f"lang{n}@afsender.example" for n in range(6))
    assert imap_server.uids() == []
    assert len(imap_server.uids(imap_server.processed)) == 6


def test_collect_killed_between_commit_and_move_adds_nothing_on_rerun(
    rnd: Round, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after the raw commit but before the move: the rerun adds no rows and the mail ends in Processed."""
    assert rnd.imap is not None
    rnd.imap.append(
        mail("a", "aeldre@raad.example", "Vi støtter strategien."),
        mail("b", "kbh@roedekors.example", "Vi ønsker flere frivillige."),
        mail("c", "stille@forening.example", "Ingen bemærkninger."),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    original = ImapSource.acknowledge
    calls = {"n": 0}

    def killed_once(self: ImapSource, batch: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise SystemExit("killed between the raw commit and the move")
        original(self, batch)

    monkeypatch.setattr(ImapSource, "acknowledge", killed_once)

    with pytest.raises(SystemExit):
        collect(rnd.app)
    assert count(rnd.app, RawMessageRow) == 3
    assert rnd.imap.uids() == [1, 2, 3]  # nothing moved yet
    collect(rnd.app)
    collect(rnd.app)

    assert count(rnd.app, RawMessageRow) == 3
    assert count(rnd.app, ResponseRow) == 3
    assert rnd.imap.uids() == []
    assert len(rnd.imap.uids(rnd.imap.processed)) == 3


def _dsn(invitation_id: str, recipient: str) -> bytes:
    report = (
        "Reporting-MTA: dns; mx.forening.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
    )
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.forening.example>\r\n"
        f"To: {REPLY_TO}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce1@mx.forening.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Your message could not be delivered to {recipient}.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"{report}\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Socialforvaltningen <{REPLY_TO}>\r\nTo: {recipient}\r\n"
        f"Message-ID: {invitation_id}\r\nSubject: [Høring {ROUND_ID}] Strategi\r\n\r\n"
        "--B--\r\n"
    ).encode()


def test_bounce_and_headerless_out_of_office_are_set_aside(rnd: Round, tmp_path: Path) -> None:
    """A DSN is a bounce that marks the party undelivered; an Exchange "Automatisk svar" is not counted."""
    assert rnd.imap is not None
    inviting.invite(rnd.app, ROUND_ID)
    invitation = outbox(rnd.app, "invitation")["stille@forening.example"]
    rnd.imap.append(
        _dsn(invitation.message_id, "stille@forening.example"),
        mail(
            "oof",
            "aeldre@raad.example",
            "Jeg er på ferie til og med mandag. Jeres mail bliver ikke videresendt.",
            subject="Automatisk svar: [Høring test-runde] Strategi for værestederne",
        ),
        when=cph("2025-10-17T08:00:00+02:00"),
    )

    collect(rnd.app)
    send_follow_ups(rnd.app)

    kinds = {r.sender: r.kind for r in responses(rnd.app)}
    assert kinds == {"mailer-daemon@mx.forening.example": "bounce", "aeldre@raad.example": "auto_reply"}
    assert outbox(rnd.app, "invitation")["stille@forening.example"].state == "bounced"
    report = assembling.assemble(rnd.app, ROUND_ID, tmp_path / "out")
    statuses = {r["Høringspart"]: r["Status"] for r in sheet_rows(report.log, "Høringsparter")}
    assert statuses["Stille Forening"] == "Invitation ikke leveret"
    assert statuses["Ældrerådet"] == "Ikke svaret"
    assert report.counted == 0
    reasons = [str(r["Årsag"]) for r in sheet_rows(report.log, "Til gennemsyn")]
    assert any("Returmail" in r for r in reasons)
    assert any("Automatisk svar" in r for r in reasons)
    assert sent_to(rnd.smtp, "Kvittering") == []


def test_bounce_without_message_id_marks_the_invitation_to_its_recipient(rnd: Round) -> None:
    """A legacy bounce that names only the failed address marks that invitation, and no other."""
    assert rnd.imap is not None
    inviting.invite(rnd.app, ROUND_ID)
    legacy = (
        "From: MAILER-DAEMON@mx.forening.example\r\n"
        f"To: {REPLY_TO}\r\n"
        "Subject: Returned mail: see transcript for details\r\n"
        "Message-ID: <legacy1@mx.forening.example>\r\n\r\n"
        "This is the mail system at host mx.forening.example.\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "<stille@forening.example>: host mx.forening.example said: 550 5.1.1 user unknown\r\n"
    ).encode()
    rnd.imap.append(legacy, when=cph("2025-10-17T08:00:00+02:00"))

    collect(rnd.app)

    states = {address: row.state for address, row in outbox(rnd.app, "invitation").items()}
    assert states.pop("stille@forening.example") == "bounced"
    assert states and "bounced" not in states.values()


# --------------------------------------------------------------------------------------------
# receipts


def test_receipts_once_per_response_never_to_machines_or_ourselves(rnd: Round) -> None:
    """One receipt per response with our receipt time and reference; none to bounces, auto-replies or our own mail."""
    assert rnd.imap is not None
    inviting.invite(rnd.app, ROUND_ID)
    rnd.imap.append(
        mail("a", "aeldre@raad.example", "Vi støtter strategien, men savner en tidsplan."),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    rnd.imap.append(
        mail("b", "kbh@roedekors.example", "Vi foreslår flere frivillige på værestederne."),
        when=cph("2025-10-20T14:30:00+02:00"),
    )
    rnd.imap.append(
        mail("c", "stille@forening.example", "Fraværende", subject="Autosvar: [Høring test-runde]"),
        mail("d", REPLY_TO, "Vores egen mail kom tilbage.", subject="[Høring test-runde] Strategi"),
        _dsn(
            outbox(rnd.app, "invitation")["formand@handicap.example"].message_id, "formand@handicap.example"
        ),
        when=cph("2025-10-20T15:00:00+02:00"),
    )
    rnd.clock.now = cph("2025-10-20T16:00:00+02:00")

    collect(rnd.app)
    send_follow_ups(rnd.app)
    collect(rnd.app)
    send_follow_ups(rnd.app)

    assert sorted(sent_to(rnd.smtp, "Kvittering")) == ["aeldre@raad.example", "kbh@roedekors.example"]
    [receipt] = messages_to(rnd.smtp, "aeldre@raad.example", "Kvittering")
    text = body(receipt)
    assert str(receipt.message["Auto-Submitted"]) == "auto-replied"
    assert str(receipt.message["In-Reply-To"]).strip() == "<a@afsender.example>"
    assert "Vi har modtaget svaret 20.10.2025 kl. 10.00" in text
    assert f"Referencenummer: {ROUND_ID}-0001" in text
    [other] = messages_to(rnd.smtp, "kbh@roedekors.example", "Kvittering")
    assert "20.10.2025 kl. 14.30" in body(other) and f"{ROUND_ID}-0002" in body(other)


def test_at_most_one_receipt_a_day_per_address(rnd: Round) -> None:
    """Two responses from one address on one day get one receipt; a response the next day gets its own."""
    assert rnd.imap is not None
    rnd.imap.append(
        mail("a1", "aeldre@raad.example", "Første svar om strategien."),
        mail("a2", "aeldre@raad.example", "Et tillæg til vores svar samme dag."),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    rnd.clock.now = cph("2025-10-20T11:00:00+02:00")
    collect(rnd.app)
    send_follow_ups(rnd.app)
    assert len(messages_to(rnd.smtp, "aeldre@raad.example", "Kvittering")) == 1

    rnd.imap.append(
        mail("a3", "aeldre@raad.example", "Endnu en bemærkning, et døgn senere."),
        when=cph("2025-10-21T12:00:00+02:00"),
    )
    rnd.clock.now = cph("2025-10-21T12:30:00+02:00")
    collect(rnd.app)
    send_follow_ups(rnd.app)

    assert count(rnd.app, ResponseRow, ResponseRow.kind == "response") == 3
    receipts = messages_to(rnd.smtp, "aeldre@raad.example", "Kvittering")
    assert len(receipts) == 2
    assert f"{ROUND_ID}-0003" in body(receipts[1])


# --------------------------------------------------------------------------------------------
# reminders and extensions


def test_remind_at_offsets_only_non_responders_with_delivered_invitation(rnd: Round) -> None:
    """Each due offset once, only to parties without a response whose invitation was delivered."""
    assert rnd.imap is not None
    rnd.smtp.fail_rcpt("stille@forening.example", "550 5.1.1 No such user")
    inviting.invite(rnd.app, ROUND_ID)
    rnd.imap.append(
        mail("a", "aeldre@raad.example", "Vi støtter strategien."),
        mail(
            "oof",
            "kbh@roedekors.example",
            "Jeg er væk til mandag.",
            subject="Automatisk svar: [Høring test-runde] Strategi for værestederne",
        ),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    collect(rnd.app)

    rnd.clock.now = cph("2025-10-21T12:00:00+02:00")  # before "3d" (21 Oct 23.59.59)
    early = inviting.remind(rnd.app, ROUND_ID)
    rnd.clock.now = cph("2025-10-22T09:00:00+02:00")
    due = inviting.remind(rnd.app, ROUND_ID)
    rerun = inviting.remind(rnd.app, ROUND_ID)
    rnd.clock.now = cph("2025-10-24T09:00:00+02:00")  # "1d" due too
    second = inviting.remind(rnd.app, ROUND_ID)
    rerun2 = inviting.remind(rnd.app, ROUND_ID)

    expected = ["formand@handicap.example", "kbh@roedekors.example", "sekretariat@handicap.example"]
    assert (early.queued, due.queued, rerun.queued, second.queued, rerun2.queued) == (0, 3, 0, 3, 0)
    assert sorted(sent_to(rnd.smtp, "Påmindelse")) == sorted(expected * 2)
    [first, *_] = messages_to(rnd.smtp, "kbh@roedekors.example", "Påmindelse")
    invitation = outbox(rnd.app, "invitation")["kbh@roedekors.example"]
    assert str(first.message["In-Reply-To"]).strip() == invitation.message_id
    assert f"[Høring {ROUND_ID}]" in str(first.message["Subject"])


def test_extend_mails_a_notice_and_lateness_uses_the_partys_own_deadline(rnd: Round, tmp_path: Path) -> None:
    """A party's own deadline is recorded and mailed once; its reply after the round deadline is on time."""
    assert rnd.imap is not None
    inviting.invite(rnd.app, ROUND_ID)
    until = cph("2025-10-31T12:00:00+01:00")

    first = inviting.extend(rnd.app, ROUND_ID, "Røde Kors", until)
    again = inviting.extend(rnd.app, ROUND_ID, "Røde Kors", until)

    assert (first.delivery.sent, again.queued, again.delivery.sent) == (1, 0, 0)
    [notice] = messages_to(rnd.smtp, "kbh@roedekors.example", "Ny frist")
    assert f"[Høring {ROUND_ID}]" in str(notice.message["Subject"])
    assert "forlænget til fredag den 31. oktober 2025 kl. 12.00" in body(notice)

    rnd.imap.append(
        mail("rk", "kbh@roedekors.example", "Vores svar efter den forlængede frist."),
        mail("ae", "aeldre@raad.example", "Vores svar kommer for sent."),
        when=cph("2025-10-28T10:00:00+01:00"),
    )
    rnd.clock.now = cph("2025-10-28T11:00:00+01:00")
    collect(rnd.app)

    late = {r.sender: r.late for r in responses(rnd.app)}
    assert late == {"kbh@roedekors.example": False, "aeldre@raad.example": True}
    report = assembling.assemble(rnd.app, ROUND_ID, tmp_path / "out")
    on_time = {r["Afsender"]: r["Rettidig"] for r in sheet_rows(report.log, "Høringssvar")}
    assert on_time == {"kbh@roedekors.example": "Ja", "aeldre@raad.example": "Nej"}


# --------------------------------------------------------------------------------------------
# sender trust


def _trusted(tmp_path: Path, smtp: SmtpTestServer, imap: ImapMailbox) -> App:
    return make_round(tmp_path, smtp, imap, authserv_id=AUTHSERV)


def test_sender_trust_believes_only_our_header_above_our_received(
    tmp_path: Path, smtp_server: SmtpTestServer, imap_server: ImapMailbox
) -> None:
    """Our A-R above our Received decides; forged ones below it or another server's are ignored."""
    app = _trusted(tmp_path, smtp_server, imap_server)
    when = "2025-10-20T10:00:00+02:00"
    forged_pass = ("Authentication-Results", f"{AUTHSERV}; spf=pass; dkim=pass; dmarc=pass")
    imap_server.append(
        # dmarc=fail from us, a forged pass below our Received: unverified
        mail(
            "dmarcfail",
            "aeldre@raad.example",
            "Svar med falsk afsender.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=pass; dkim=fail; dmarc=fail",
                received_by_us(when),
            ],
            headers=[forged_pass],
        ),
        # spf=fail without dkim=pass: unverified
        mail(
            "spffail",
            "kbh@roedekors.example",
            "Svar fra en server, der ikke må sende for domænet.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=fail; dkim=none; dmarc=none",
                received_by_us(when),
            ],
        ),
        # spf=fail but dkim=pass: verified
        mail(
            "dkimpass",
            "stille@forening.example",
            "Svar via en videresendende server.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=fail; dkim=pass; dmarc=pass",
                received_by_us(when),
            ],
        ),
        # a fail from another server's A-R and a forged fail below ours: ignored
        mail(
            "otherserver",
            "formand@handicap.example",
            "Svar fra Handicaprådet.",
            top=[
                "Authentication-Results: evil.example; dmarc=fail",
                f"Authentication-Results: {AUTHSERV}; spf=pass; dkim=pass; dmarc=pass",
                received_by_us(when),
            ],
            headers=[("Authentication-Results", f"{AUTHSERV}; dmarc=fail")],
        ),
        when=cph(when),
    )
    app.clock.now = cph("2025-10-20T11:00:00+02:00")  # type: ignore[union-attr]

    collect(app)
    send_follow_ups(app)

    verified = {r.sender: r.verified for r in responses(app)}
    assert verified == {
        "aeldre@raad.example": "fail",
        "kbh@roedekors.example": "fail",
        "stille@forening.example": "pass",
        "formand@handicap.example": "pass",
    }
    report = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    assert report.counted == 2
    review = {r["Afsender"]: str(r["Årsag"]) for r in sheet_rows(report.log, "Til gennemsyn")}
    assert set(review) == {"aeldre@raad.example", "kbh@roedekors.example"}
    assert all("verificeres" in reason for reason in review.values())
    statuses = {r["Høringspart"]: r["Status"] for r in sheet_rows(report.log, "Høringsparter")}
    assert statuses["Ældrerådet"] == statuses["Røde Kors"] == "Ikke svaret"


def test_only_the_topmost_of_our_headers_is_believed(
    tmp_path: Path, smtp_server: SmtpTestServer, imap_server: ImapMailbox
) -> None:
    """With two A-R headers of our id above our Received, the topmost one decides."""
    app = _trusted(tmp_path, smtp_server, imap_server)
    when = "2025-10-20T10:00:00+02:00"
    imap_server.append(
        mail(
            "toppass",
            "aeldre@raad.example",
            "Vores svar.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=pass; dkim=pass; dmarc=pass",
                f"Authentication-Results: {AUTHSERV}; spf=fail; dkim=none; dmarc=fail",
                received_by_us(when),
            ],
        ),
        mail(
            "topfail",
            "kbh@roedekors.example",
            "Vores svar.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=fail; dkim=none; dmarc=fail",
                f"Authentication-Results: {AUTHSERV}; spf=pass; dkim=pass; dmarc=pass",
                received_by_us(when),
            ],
        ),
        when=cph(when),
    )

    collect(app)

    verified = {r.sender: r.verified for r in responses(app)}
    assert verified == {"aeldre@raad.example": "pass", "kbh@roedekors.example": "fail"}


def test_unverified_sender_counts_after_staff_include_it(
    tmp_path: Path, smtp_server: SmtpTestServer, imap_server: ImapMailbox
) -> None:
    """An unverified response is kept, gets no receipt, and counts once staff write Medtag."""
    app = _trusted(tmp_path, smtp_server, imap_server)
    when = "2025-10-20T10:00:00+02:00"
    imap_server.append(
        mail(
            "unverified",
            "aeldre@raad.example",
            "Ældrerådet støtter strategien.",
            top=[
                f"Authentication-Results: {AUTHSERV}; spf=fail; dkim=fail; dmarc=fail",
                received_by_us(when),
            ],
        ),
        when=cph(when),
    )
    collect(app)
    send_follow_ups(app)
    first = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    assert (first.counted, first.review) == (0, 1)
    assert sent_to(smtp_server, "Kvittering") == []

    book = load_workbook(first.log)
    sheet = book["Til gennemsyn"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("Beslutning") + 1, "Medtag")
    sheet.cell(2, header.index("Høringspart") + 1, "Ældrerådet")
    book.save(first.log)
    second = assembling.assemble(app, ROUND_ID, tmp_path / "out")

    assert second.counted == 1
    statuses = {r["Høringspart"]: r["Status"] for r in sheet_rows(second.log, "Høringsparter")}
    assert statuses["Ældrerådet"] == "Svar modtaget"


# --------------------------------------------------------------------------------------------
# duplicates


def test_same_message_delivered_twice_is_one_response_with_the_copy_linked(
    rnd: Round, tmp_path: Path
) -> None:
    """Same Message-ID and text, different bytes: one counted response, the copy linked to it, one receipt."""
    assert rnd.imap is not None
    text = "Vi støtter strategien og ønsker flere væresteder."
    rnd.imap.append(
        mail("same", "aeldre@raad.example", text, top=[received_by_us("2025-10-20T10:00:00+02:00")]),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    rnd.imap.append(
        mail("same", "aeldre@raad.example", text, top=[received_by_us("2025-10-20T10:05:00+02:00")]),
        when=cph("2025-10-20T10:05:00+02:00"),
    )
    rnd.clock.now = cph("2025-10-20T11:00:00+02:00")

    collect(rnd.app)
    send_follow_ups(rnd.app)

    rows = responses(rnd.app)
    assert count(rnd.app, RawMessageRow) == 2
    assert [r.kind for r in rows] == ["response", "duplicate"]
    assert rows[1].duplicate_of == rows[0].id
    report = assembling.assemble(rnd.app, ROUND_ID, tmp_path / "out")
    assert report.counted == 1
    assert len(sheet_rows(report.log, "Høringssvar")) == 1
    assert len(messages_to(rnd.smtp, "aeldre@raad.example", "Kvittering")) == 1


def test_one_message_id_on_different_content_keeps_both_flagged(rnd: Round) -> None:
    """Same Message-ID with other text: both are kept as responses and the second is flagged for review."""
    assert rnd.imap is not None
    rnd.imap.append(
        mail("clash", "aeldre@raad.example", "Vi støtter strategien."),
        mail("clash", "aeldre@raad.example", "Vi er imod strategien, den er for dyr."),
        when=cph("2025-10-20T10:00:00+02:00"),
    )

    collect(rnd.app)

    rows = responses(rnd.app)
    assert [r.kind for r in rows] == ["response", "response"]
    assert rows[1].review_reason is not None and "Samme Message-ID" in rows[1].review_reason


# --------------------------------------------------------------------------------------------
# an unrecognisable returned template


def _damaged_template() -> bytes:
    """Ældrerådet's own template with the column headings renamed: ours, but unreadable."""
    book = load_workbook(io.BytesIO(build_template(ROUND_ID, "Strategi for værestederne", "Ældrerådet", "x")))
    sheet = book["Høringssvar"]
    for col, title in enumerate(("Felt A", "Felt B", "Felt C"), start=1):
        sheet.cell(6, col, title)
    sheet.cell(7, 1, "Side 3")
    sheet.cell(7, 2, "Vi savner en tidsplan for udbygningen.")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_unrecognised_template_is_kept_reviewed_and_answered_in_danish(rnd: Round, tmp_path: Path) -> None:
    """The file is stored, the response is in Til gennemsyn with the reason, and the sender gets a Danish reply."""
    assert rnd.imap is not None
    data = _damaged_template()
    rnd.imap.append(
        mail(
            "skema",
            "aeldre@raad.example",
            "Hermed vores skema.",
            attachments=[(f"hoeringsskema-{ROUND_ID}.xlsx", data, XLSX)],
        ),
        when=cph("2025-10-20T10:00:00+02:00"),
    )
    rnd.clock.now = cph("2025-10-20T11:00:00+02:00")

    collect(rnd.app)
    send_follow_ups(rnd.app)

    [row] = responses(rnd.app)
    assert row.review_reason is not None and "Bemærkning" in row.review_reason
    with rnd.app.db.transaction() as session:
        [att] = session.scalars(select(AttachmentRow).where(AttachmentRow.response_id == row.id))
        assert att.path is not None and Path(att.path).read_bytes() == data
    report = assembling.assemble(rnd.app, ROUND_ID, tmp_path / "out")
    reasons = {r["Afsender"]: str(r["Årsag"]) for r in sheet_rows(report.log, "Til gennemsyn")}
    assert "Bemærkning" in reasons["aeldre@raad.example"]
    [reply] = messages_to(rnd.smtp, "aeldre@raad.example", "Høringsskemaet kunne ikke læses")
    text = body(reply)
    assert str(reply.message["Auto-Submitted"]) == "auto-replied"
    assert "kunne ikke læses automatisk" in text
    assert (
        "Kolonnen 'Bemærkning' blev ikke fundet" in text or "kolonnen 'Bemærkning' blev ikke fundet" in text
    )
    assert f"{ROUND_ID}-0001" in text
    assert len(outbox(rnd.app, "template_rejected")) == 1


def test_unrecognised_template_without_smtp_gets_no_reply(tmp_path: Path, imap_server: ImapMailbox) -> None:
    """With no SMTP configured the unreadable template is still reviewed, but no reply is queued."""
    app = make_round(tmp_path, None, imap_server)
    imap_server.append(
        mail(
            "skema",
            "aeldre@raad.example",
            "Hermed vores skema.",
            attachments=[(f"hoeringsskema-{ROUND_ID}.xlsx", _damaged_template(), XLSX)],
        ),
        when=cph("2025-10-20T10:00:00+02:00"),
    )

    collect(app)

    [row] = responses(app)
    assert row.review_reason is not None and "Bemærkning" in row.review_reason
    assert outbox(app, "template_rejected") == {}
