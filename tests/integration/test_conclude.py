"""`hoering conclude` through the services: the final note to every counted respondent, once each.

SQLite and the default `.eml` outbox folder (no server needed); sender trust is on, so an
unverified sender can be shown to get nothing even after staff include its response.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from flows.adapters.db.tables import OutboxRow
from flows.bootstrap import App, bootstrap
from flows.core.errors import ConclusionDocumentError, InvitationsWaitingError, RoundNotClosedError
from flows.services import assembling, closing, concluding, inviting
from flows.services.opening import open_round
from flows.settings import Settings
from tests.integration.test_round_lifecycle import ROUND, collect, deliver, deliver_bytes, set_review_decision
from tests.support.smtpserver import SmtpTestServer

ROUND_ID = "test-runde"
AUTHSERV = "mx.kk.example"
NOTE = b"PK\x03\x04 the final note, as staff saved it from Word"


def _app(tmp_path: Path, database_url: str | None = None) -> App:
    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    (base / "runde.toml").write_text(ROUND.format(deadline="2025-10-24T23:59:59+02:00"), encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "var",
        now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"),
        authserv_id=AUTHSERV,
    )
    app = bootstrap(settings)
    open_round(app, base / "runde.toml")
    return app


def _bounce(invitation_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.forening.example>\r\n"
        "To: hoering@kk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce1@mx.forening.example>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        f"--B\r\nContent-Type: text/plain\r\n\r\nCould not deliver to {recipient}.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.forening.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: hoering@kk.example\r\nTo: {recipient}\r\nMessage-ID: {invitation_id}\r\n\r\n--B--\r\n"
    ).encode()


def _forged(sender: str, body: str) -> bytes:
    message = EmailMessage()
    message["Authentication-Results"] = f"{AUTHSERV}; spf=fail smtp.mailfrom=roedekors.example; dmarc=fail"
    message["From"] = sender
    message["To"] = "hoering@kk.example"
    message["Subject"] = "SV: [Høring test-runde]"
    message["Message-ID"] = "<forged@test.example>"
    message.set_content(body)
    return message.as_bytes()


def _conclusions(app: App) -> list[EmailMessage]:
    found = []
    for path in sorted((app.settings.resolved_data_dir / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if str(message["Subject"]).startswith("Høringsnotat"):
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def _closed_round_with_respondents(tmp_path: Path, database_url: str) -> App:
    app = _app(tmp_path, database_url)
    inviting.invite(app, ROUND_ID)
    with app.db.transaction() as session:
        stille = session.scalar(
            select(OutboxRow.message_id).where(
                OutboxRow.purpose == "invitation", OutboxRow.address == "stille@forening.example"
            )
        )
    assert stille is not None
    deliver_bytes(app, "dsn", _bounce(stille, "stille@forening.example"), "2025-10-16T10:00:00+02:00")
    deliver(app, "a1", "aeldre@raad.example", "Vi støtter strategien.", "2025-10-17T10:00:00+02:00")
    deliver(app, "a2", "Aeldre@Raad.example", "Et tillæg: flere bænke.", "2025-10-18T10:00:00+02:00")
    deliver(app, "s", "stille@forening.example", "Vi har ingen bemærkninger.", "2025-10-19T10:00:00+02:00")
    deliver_bytes(app, "f", _forged("anna@roedekors.example", "Vi er imod."), "2025-10-20T10:00:00+02:00")
    deliver(app, "u", "borger@privat.example", "Jeg er nabo og imod.", "2025-10-21T10:00:00+02:00")
    collect(app)
    first = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    set_review_decision(first.log, "anna@roedekors.example", "Medtag", "Røde Kors")
    set_review_decision(first.log, "borger@privat.example", "Medtag", "")
    assembling.assemble(app, ROUND_ID, tmp_path / "out")
    app.clock = lambda: datetime.fromisoformat("2025-10-25T09:00:00+02:00")
    closing.mark_closed(app, ROUND_ID)
    return app


def test_conclude_twice_mails_each_counted_respondent_once_with_the_note(
    tmp_path: Path, database_url: str
) -> None:
    app = _closed_round_with_respondents(tmp_path, database_url)
    note = tmp_path / "hoeringsnotat-endelig.docx"
    note.write_bytes(NOTE)

    first = concluding.conclude(app, ROUND_ID, note)
    sent = _conclusions(app)
    # Ældrerådet once (two responses, one address in two spellings); the included citizen;
    # not the forged Røde Kors sender (unverified, though included), not Stille Forening (bounced)
    assert sorted(str(m["To"]).lower() for m in sent) == ["aeldre@raad.example", "borger@privat.example"]
    assert (first.queuing.unverified, first.queuing.bounced, first.delivery.sent) == (1, 1, 2)
    for message in sent:
        body = message.get_body(("plain",))
        assert body is not None and "Tak for jeres høringssvar" in body.get_content()
        (attachment,) = list(message.iter_attachments())
        assert attachment.get_filename() == "hoeringsnotat-endelig.docx"
        assert attachment.get_content() == NOTE

    note.write_bytes(NOTE + b" edited after the first run")
    app.clock = lambda: datetime.fromisoformat("2025-10-27T09:00:00+02:00") + timedelta(minutes=1)
    again = concluding.conclude(app, ROUND_ID, note)
    assert (again.queuing.queued, again.delivery.sent) == (0, 0)
    assert len(_conclusions(app)) == 2


def test_conclude_refuses_an_open_round_and_a_missing_document(tmp_path: Path) -> None:
    app = _app(tmp_path)
    note = tmp_path / "notat.docx"
    note.write_bytes(NOTE)
    with pytest.raises(RoundNotClosedError):
        concluding.conclude(app, ROUND_ID, note)
    app.clock = lambda: datetime.fromisoformat("2025-10-25T09:00:00+02:00")
    closing.mark_closed(app, ROUND_ID)
    with pytest.raises(ConclusionDocumentError):
        concluding.conclude(app, ROUND_ID, tmp_path / "findes-ikke.docx")
    assert _conclusions(app) == []


def test_a_deferred_final_note_fails_the_run_in_one_line_and_the_rerun_sends_it_once(
    tmp_path: Path, database_url: str, smtp_server: SmtpTestServer
) -> None:
    """The mail server defers one address: conclude says how many wait (the CLI exits 1 on it, as
    `invite` does); a rerun after the backoff sends that one only, and then passes."""
    closed = _closed_round_with_respondents(tmp_path, database_url)
    settings = closed.settings.model_copy(update={"smtp_url": SecretStr(smtp_server.url)})
    app = App(settings, closed.database, clock=closed.clock)
    note = tmp_path / "hoeringsnotat-endelig.docx"
    note.write_bytes(NOTE)
    smtp_server.fail_rcpt("borger@privat.example", "451 4.3.0 Mailbox temporarily unavailable")

    first = concluding.conclude(app, ROUND_ID, note)
    with pytest.raises(InvitationsWaitingError) as waiting:
        concluding.ensure_all_sent(app, ROUND_ID, first.delivery.sent)

    assert (first.delivery.sent, first.delivery.temp_failed) == (1, 1)
    assert str(waiting.value).startswith(
        "1 mail med høringsnotatet venter på at blive sendt, fordi mailserveren bad om at prøve igen "
        "senere (1 sendt). Kør hoering conclude igen fra "
    )
    assert "\n" not in str(waiting.value)
    app.clock = lambda: datetime.fromisoformat("2025-10-26T09:00:00+02:00")
    again = concluding.conclude(app, ROUND_ID, note)
    concluding.ensure_all_sent(app, ROUND_ID, again.delivery.sent)  # nothing waits now

    assert (again.queuing.queued, again.delivery.sent) == (0, 1)
    delivered = sorted(r for m in smtp_server.received for r in m.rcpt_tos)
    assert delivered == ["aeldre@raad.example", "borger@privat.example"]
