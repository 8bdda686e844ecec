"""SmtpMailer against a real aiosmtpd server on loopback (intake-reliability.md §6 cases 9-12)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flows.adapters.ports import SendResult
from flows.adapters.smtp_mailer import SmtpMailer, TokenBucket, parse_smtp_url
from flows.core.model import OutboxState
from flows.core.sending import next_attempt
from tests.support.smtpserver import SmtpTestServer

NOW = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)


def _message(to: str = "part@example.org") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "hoering@kk.example"
    message["To"] = to
    message["Subject"] = "Høring over strategien"
    message["Message-ID"] = make_msgid(domain="hoering.invalid")
    message["X-Hoering-Loop"] = "sof-partnerskab-2025"
    message.set_content("Kære part\n\nSe udkastet.\n")
    return message


def _mailer(server: SmtpTestServer) -> SmtpMailer:
    return SmtpMailer(server.url, timeout=5, rate_per_minute=0)


def test_message_arrives_with_headers(smtp_server: SmtpTestServer) -> None:
    """A sent invitation arrives once, to the envelope recipient, with our headers intact."""
    mailer = _mailer(smtp_server)
    message = _message()
    result = mailer.send(message, "part@example.org")
    mailer.close()
    assert result.state == "sent" and result.code == 250
    [got] = smtp_server.received
    assert got.rcpt_tos == ["part@example.org"]
    assert got.message["Message-ID"] == message["Message-ID"]
    assert got.message["X-Hoering-Loop"] == "sof-partnerskab-2025"
    assert got.message["Subject"] == "Høring over strategien"


def test_connection_is_reused_across_sends(smtp_server: SmtpTestServer) -> None:
    """Two sends share one connection; both arrive."""
    mailer = _mailer(smtp_server)
    assert mailer.send(_message(), "a@example.org").state == "sent"
    first = mailer._smtp
    assert mailer.send(_message(), "b@example.org").state == "sent"
    assert mailer._smtp is first
    mailer.close()
    assert [r.rcpt_tos for r in smtp_server.received] == [["a@example.org"], ["b@example.org"]]


def _send_until_done(mailer: SmtpMailer, message: EmailMessage, to: str) -> list[SendResult]:
    """The outbox loop in miniature: send, ask the policy, retry while it says temp_failed."""
    results: list[SendResult] = []
    rng = random.Random(1)
    for attempts in range(1, 10):
        result = mailer.send(message, to)
        results.append(result)
        state, next_at, _dup = next_attempt(result, attempts, max_attempts=5, now=NOW, rng=rng)
        if state != OutboxState.TEMP_FAILED:
            break
        assert next_at is not None and next_at > NOW
    return results


def test_421_on_rcpt_then_success_sends_once(smtp_server: SmtpTestServer) -> None:
    """A 421 (server closes) is temp_failed; the retry reconnects and delivers exactly once."""
    smtp_server.fail_rcpt("part@example.org", "421 4.7.0 try again later")
    mailer = _mailer(smtp_server)
    results = _send_until_done(mailer, _message(), "part@example.org")
    mailer.close()
    assert [r.state for r in results] == ["temp_failed", "sent"]
    assert results[0].code == 421
    assert len(smtp_server.received) == 1


def test_451_on_data_then_success_sends_once(smtp_server: SmtpTestServer) -> None:
    """A 451 on DATA is temp_failed with code and text; the retry delivers exactly once."""
    smtp_server.fail_data("451 4.3.0 local error")
    mailer = _mailer(smtp_server)
    results = _send_until_done(mailer, _message(), "part@example.org")
    mailer.close()
    assert [(r.state, r.code) for r in results] == [("temp_failed", 451), ("sent", 250)]
    assert "local error" in results[0].text
    assert len(smtp_server.received) == 1


def test_550_is_perm_failed_with_code_and_text(smtp_server: SmtpTestServer) -> None:
    """550 5.1.1 on RCPT is perm_failed, the policy does not retry, nothing arrives."""
    smtp_server.fail_rcpt("gone@example.org", "550 5.1.1 No such user")
    mailer = _mailer(smtp_server)
    results = _send_until_done(mailer, _message("gone@example.org"), "gone@example.org")
    mailer.close()
    assert results == [SendResult("perm_failed", 550, "5.1.1 No such user")]
    assert smtp_server.received == []


def test_partial_refusal_recorded_per_recipient(smtp_server: SmtpTestServer) -> None:
    """One message to three recipients, one transaction each: sent / perm_failed / temp_failed."""
    smtp_server.fail_rcpt("hard@example.org", "550 5.1.1 No such user")
    smtp_server.fail_rcpt("soft@example.org", "450 4.2.1 Mailbox busy")
    message = _message("ok@example.org, hard@example.org, soft@example.org")
    mailer = _mailer(smtp_server)
    states = {
        to: mailer.send(message, to) for to in ("ok@example.org", "hard@example.org", "soft@example.org")
    }
    mailer.close()
    assert {to: (r.state, r.code) for to, r in states.items()} == {
        "ok@example.org": ("sent", 250),
        "hard@example.org": ("perm_failed", 550),
        "soft@example.org": ("temp_failed", 450),
    }
    assert [r.rcpt_tos for r in smtp_server.received] == [["ok@example.org"]]


def test_drop_after_data_is_unknown_and_possible_duplicate(smtp_server: SmtpTestServer) -> None:
    """A cut after DATA is "unknown"; the policy retries it, flagged as a possible duplicate."""
    smtp_server.drop_after_data()
    mailer = _mailer(smtp_server)
    message = _message()
    first = mailer.send(message, "part@example.org")
    assert first.state == "unknown"
    state, next_at, duplicate = next_attempt(first, 1, max_attempts=5, now=NOW, rng=random.Random(2))
    assert state == OutboxState.TEMP_FAILED and next_at is not None and duplicate
    second = mailer.send(message, "part@example.org")  # same Message-ID, new connection
    mailer.close()
    assert second.state == "sent"
    assert smtp_server.handler.dropped[0].data == smtp_server.received[0].data


def test_unreachable_server_is_temp_failed() -> None:
    """Nobody listening: a connection error before DATA is temp_failed, not an exception."""
    from tests.support.smtpserver import free_port

    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=2, rate_per_minute=0)
    result = mailer.send(_message(), "part@example.org")
    assert result.state == "temp_failed" and result.code is None


def test_rate_limit_with_fake_clock() -> None:
    """30 a minute: the first send is free, each further one waits two seconds of the fake clock."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(30, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        bucket.take()
    assert slept == [2.0, 2.0, 2.0]
    now[0] += 60  # idle for a minute: the bucket holds one token, not thirty (no burst)
    bucket.take()
    assert len(slept) == 3


def test_rate_limit_applies_to_sends(smtp_server: SmtpTestServer) -> None:
    """SmtpMailer takes a token per send from the injected clock."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    mailer = SmtpMailer(smtp_server.url, timeout=5, rate_per_minute=60, clock=lambda: now[0], sleep=sleep)
    for to in ("a@example.org", "b@example.org", "c@example.org"):
        assert mailer.send(_message(), to).state == "sent"
    mailer.close()
    assert slept == [1.0, 1.0]


def test_password_never_in_repr() -> None:
    """The parsed URL's repr (what a log line would show) holds no password."""
    target = parse_smtp_url("smtps://user%40kk.example:s3cr%21t@mail.kk.example")
    assert target.password == "s3cr!t" and target.user == "user@kk.example" and target.port == 465
    assert "s3cr" not in repr(target)


def test_the_bytes_the_server_received_are_the_copy_kept(smtp_server: SmtpTestServer, tmp_path: Path) -> None:
    """The case file holds what was sent: the kept copy is byte for byte what the server got.

    A message with an attachment, so its multipart boundary (chosen when it is flattened) must be
    the same in both; and a line starting with a dot, which SMTP stuffs on the wire.
    """
    mailer = SmtpMailer(smtp_server.url, timeout=5, rate_per_minute=0, copies=tmp_path / "outbox")
    message = _message()
    message.set_content("Kaere part\n.\n..Se udkastet.\n")  # 7bit, so the dots stay visible
    message.add_attachment(b"%PDF-1.4 udkast", maintype="application", subtype="pdf", filename="udkast.pdf")
    result = mailer.send(message, "part@example.org")
    mailer.close()
    assert result.state == "sent" and result.location is not None
    [got] = smtp_server.received
    kept = Path(result.location).read_bytes()
    assert kept == got.data
    assert Path(result.location).parent == tmp_path / "outbox"
    # the message's own lines, not the wire's dot-stuffed ones (which would read "...Se")
    assert b"udkast.pdf" in kept and b"\r\n..Se udkastet.\r\n" in kept


def test_without_a_copies_folder_nothing_is_kept(smtp_server: SmtpTestServer, tmp_path: Path) -> None:
    result = _mailer(smtp_server).send(_message(), "part@example.org")
    assert result.state == "sent" and result.location is None
