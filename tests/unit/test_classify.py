"""Classification: loop → bounce → auto-reply → response, and sender trust (§6 cases 13-16)."""

from __future__ import annotations

from flows.adapters.mailparse import parse_message
from flows.core.classify import Classification, classify
from flows.core.message import DeliveryReport, ParsedMessage
from flows.core.model import Kind

OWN = {"hoering-sof@kk.example"}
OWN_IDS = {"<inv-1@hoering.invalid>"}
AUTHSERV = "mx.kk.example"


def _raw(headers: str, body: str = "Hej\n\nVi har ingen bemærkninger.\n") -> bytes:
    base = "From: SAND <sand@example.org>\nTo: hoering-sof@kk.example\nMessage-ID: <r1@example.org>\n"
    return (headers.strip("\n") + "\n" + base + "\n" + body).encode()


def _classify(raw: bytes, authserv_id: str | None = None) -> Classification:
    return classify(parse_message(raw), own_addresses=OWN, own_message_ids=OWN_IDS, authserv_id=authserv_id)


def test_plain_answer_is_response() -> None:
    """An ordinary answer is a response, and without an authserv-id trust is "none"."""
    verdict = _classify(_raw("Subject: Høringssvar fra SAND"))
    assert verdict.kind == Kind.RESPONSE and verdict.verified == "none"


def test_from_own_address_without_loop_header_is_held_for_review() -> None:
    """Mail from our own address without our loop header is a response held for staff, not a loop.

    It may be a colleague answering from the shared mailbox, or a forgery; before, it vanished.
    """
    raw = _raw("Subject: x").replace(b"sand@example.org", b"Hoering-SOF@kk.example")
    verdict = _classify(raw)
    assert verdict.kind == Kind.RESPONSE
    assert "egen adresse" in verdict.hold and "tælles ikke" in verdict.hold


def test_own_address_with_loop_header_is_still_a_loop() -> None:
    """Our own mail come back (our loop header) stays an ignored loop, whatever the address."""
    raw = _raw("X-Hoering-Loop: sof-partnerskab-2025\nSubject: x").replace(
        b"sand@example.org", b"hoering-sof@kk.example"
    )
    verdict = _classify(raw)
    assert verdict.kind == Kind.LOOP and verdict.hold == ""


def test_loop_header_is_loop() -> None:
    """Our X-Hoering-Loop header coming back means our own mail: a loop."""
    assert _classify(_raw("X-Hoering-Loop: sof-partnerskab-2025\nSubject: Re: høring")).kind == Kind.LOOP


def test_own_message_id_is_loop() -> None:
    """Our own invitation echoed back (its Message-ID is one we sent) is a loop."""
    raw = _raw("Subject: Høring").replace(b"<r1@example.org>", b"<inv-1@hoering.invalid>")
    assert _classify(raw).kind == Kind.LOOP


def _dsn(action: str, status: str) -> bytes:
    return f"""From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: hoering-sof@kk.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn1@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; Gone@Example.org
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B
Content-Type: text/rfc822-headers

From: hoering-sof@kk.example
To: gone@example.org
Message-ID: <inv-9@hoering.invalid>
Subject: Høring

--B--
""".encode()


def test_rfc3464_hard_bounce() -> None:
    """A DSN with Action failed is a bounce naming the recipient and the returned Message-ID."""
    verdict = _classify(_dsn("failed", "5.1.1"))
    assert verdict.kind == Kind.BOUNCE and not verdict.temporary
    assert verdict.bounced_recipients == ["gone@example.org"]
    assert verdict.bounced_message_ids == ["inv-9@hoering.invalid"]
    assert "gone@example.org" in verdict.reason


def test_rfc3464_delay_is_temporary() -> None:
    """Action delayed is a bounce kind but temporary: nothing is marked undelivered."""
    verdict = _classify(_dsn("delayed", "4.4.7"))
    assert verdict.kind == Kind.BOUNCE and verdict.temporary
    assert verdict.bounced_recipients == [] and verdict.bounced_message_ids == []
    assert verdict.delayed_recipients == ["gone@example.org"]
    assert "Forsinket" in verdict.reason


def test_success_dsn_is_not_a_response() -> None:
    """A delivered DSN is machine mail: set aside as an auto-reply, never counted."""
    msg = ParsedMessage("d@x", "Delivered", "postmaster@example.org", "")
    msg.delivery_reports = [DeliveryReport("a@example.org", "delivered", "2.0.0")]
    verdict = classify(msg, own_addresses=OWN, own_message_ids=OWN_IDS, authserv_id=None)
    assert verdict.kind == Kind.AUTO_REPLY


def test_non_dsn_bounce_from_body() -> None:
    """A legacy (non-DSN) bounce: recipient from the failure line, original id from quoted headers."""
    body = (
        "This is the mail system at host mx.example.org.\n\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n\n"
        "<gone@example.org>: host mx.example.org said: 550 5.1.1 user unknown\n\n"
        "--- original message ---\nFrom: hoering-sof@kk.example\nMessage-ID: <inv-7@hoering.invalid>\n"
    )
    raw = _raw("Subject: Returned mail: see transcript for details", body).replace(
        b"sand@example.org", b"MAILER-DAEMON@mx.example.org"
    )
    verdict = _classify(raw)
    assert verdict.kind == Kind.BOUNCE
    assert verdict.bounced_recipients == ["gone@example.org"]
    assert verdict.bounced_message_ids == ["inv-7@hoering.invalid"]


def test_x_failed_recipients() -> None:
    """Exim's X-Failed-Recipients header names the bounced address."""
    verdict = _classify(_raw("X-Failed-Recipients: gone@example.org\nSubject: Mail delivery failed"))
    assert verdict.kind == Kind.BOUNCE and verdict.bounced_recipients == ["gone@example.org"]


def test_localised_bounce_subjects() -> None:
    """Danish, French and German bounce subjects are bounces."""
    for subject in ("Ikke leveret: Høring", "Kunne ikke leveres: Høring", "Non remis : x", "Unzustellbar: x"):
        assert _classify(_raw(f"Subject: {subject}")).kind == Kind.BOUNCE, subject


def test_auto_submitted_is_auto_reply() -> None:
    """Auto-Submitted: auto-replied marks an auto-reply; Auto-Submitted: no does not."""
    assert _classify(_raw("Auto-Submitted: auto-replied\nSubject: Re: Høring")).kind == Kind.AUTO_REPLY
    assert _classify(_raw("Auto-Submitted: no\nSubject: Re: Høring")).kind == Kind.RESPONSE


def test_other_auto_headers() -> None:
    """X-Autoreply, X-Autorespond and Precedence auto_reply/bulk/junk/list are auto-replies."""
    for header in ("X-Autoreply: yes", "X-Autorespond: yes", "Precedence: auto_reply", "Precedence: bulk"):
        assert _classify(_raw(f"{header}\nSubject: Re: Høring")).kind == Kind.AUTO_REPLY, header


def test_exchange_out_of_office_without_headers() -> None:
    """Exchange OOF with no auto headers at all is recognised by its subject."""
    for subject in ("Automatisk svar: Høring", "Autosvar: Høring", "Fraværende: x", "Out of Office: x",
                    "Automatic reply: x", "Abwesenheitsnotiz: x", "Frånvaro: x", "Auto: x"):  # fmt: skip
        assert _classify(_raw(f"Subject: {subject}")).kind == Kind.AUTO_REPLY, subject


def test_subject_mentioning_auto_is_still_response() -> None:
    """A word like "Automatisering" at the start of a real answer is not an auto-reply."""
    assert _classify(_raw("Subject: Automatisering i strategien")).kind == Kind.RESPONSE


def test_null_return_path_oof_is_not_a_bounce() -> None:
    """An RFC 3834 auto-reply with Return-Path <> is an auto-reply, not a bounce."""
    raw = _raw("Return-Path: <>\nAuto-Submitted: auto-replied\nSubject: Fraværende: Høring",
               "Jeg er væk, og min mail kunne ikke besvares før mandag.\n")  # fmt: skip
    assert _classify(raw).kind == Kind.AUTO_REPLY


def _with_ar(lines: str) -> bytes:
    return _raw(lines + "\nSubject: Høringssvar")


RECEIVED = "Received: from mail.example.org by mx.kk.example; Mon, 20 Oct 2025 10:00:00 +0200"


def test_dmarc_fail_above_our_received_is_fail() -> None:
    """Our own A-R (above our Received) reporting dmarc=fail makes the sender unverified."""
    raw = _with_ar(f"Authentication-Results: mx.kk.example; spf=pass; dkim=none; dmarc=fail\n{RECEIVED}")
    assert _classify(raw, AUTHSERV).verified == "fail"


def test_spf_fail_without_dkim_pass_is_fail() -> None:
    """spf=fail with no dkim=pass is unverified; with dkim=pass it is a pass."""
    assert (
        _classify(_with_ar(f"Authentication-Results: mx.kk.example; spf=fail\n{RECEIVED}"), AUTHSERV).verified
        == "fail"
    )
    raw = _with_ar(
        f"Authentication-Results: mx.kk.example; spf=fail; dkim=pass header.d=example.org\n{RECEIVED}"
    )
    assert _classify(raw, AUTHSERV).verified == "pass"


def test_believed_pass() -> None:
    """dmarc=pass in our own header is "pass"; comments do not fool the parser."""
    raw = _with_ar(f"Authentication-Results: mx.kk.example (dmarc=fail?); dmarc=pass (p=none)\n{RECEIVED}")
    assert _classify(raw, AUTHSERV).verified == "pass"


def test_our_header_below_our_received_is_believed() -> None:
    """Postfix milters write our A-R just below our Received: the topmost with our id counts there too."""
    raw = _with_ar(f"{RECEIVED}\nAuthentication-Results: mx.kk.example; spf=pass; dkim=none; dmarc=fail")
    assert _classify(raw, AUTHSERV).verified == "fail"


def test_spoofed_pass_below_our_fail() -> None:
    """Our fail above, a forged pass below: the forged one is ignored, the verdict is fail."""
    raw = _with_ar(
        f"Authentication-Results: mx.kk.example; dmarc=fail\n{RECEIVED}\n"
        "Authentication-Results: mx.kk.example; dmarc=pass"
    )
    assert _classify(raw, AUTHSERV).verified == "fail"


def test_other_authserv_id_is_ignored() -> None:
    """An A-R from another server (even above ours) is not believed."""
    raw = _with_ar(f"Authentication-Results: mx.evil.test; dmarc=fail\n{RECEIVED}")
    assert _classify(raw, AUTHSERV).verified == "none"


def test_without_authserv_id_trust_is_none() -> None:
    """Without the setting, senders are matched by address alone: verified is "none"."""
    raw = _with_ar(f"Authentication-Results: mx.kk.example; dmarc=fail\n{RECEIVED}")
    assert _classify(raw, None).verified == "none"
