"""parse_message on hostile and faulty messages built in code (intake-reliability.md §6)."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from flows.adapters.charset import decode_bytes
from flows.adapters.html_text import html_to_text
from flows.adapters.mailparse import parse_message
from flows.adapters.mime_body import FORWARD_MARKER

CRLF = "\r\n"


def raw(headers: dict[str, str], body: bytes | str, *, extra: str = "") -> bytes:
    """A message from header lines and a body, exactly as given (no library re-encoding)."""
    head = CRLF.join(f"{k}: {v}" for k, v in headers.items())
    data = body.encode("utf-8") if isinstance(body, str) else body
    return (head + CRLF + extra + CRLF).encode("utf-8") + data


BASE = {
    "From": "Hans Hansen <hans@org.dk>",
    "To": "hoering@kk.example",
    "Subject": "Svar",
    "Message-ID": "<abc@org.dk>",
    "Date": "Mon, 20 Oct 2025 10:00:00 +0200",
    "MIME-Version": "1.0",
}


def with_headers(**changes: str) -> dict[str, str]:
    headers = dict(BASE)
    headers.update({k.replace("_", "-"): v for k, v in changes.items()})
    return headers


# --- headers -------------------------------------------------------------------------------------


def test_basic_headers() -> None:
    """Message-ID loses its brackets, From is the addr-spec, Date is aware, headers are lowercased."""
    parsed = parse_message(raw(with_headers(Content_Type="text/plain"), "Hej"))
    assert parsed.message_id == "abc@org.dk"
    assert parsed.from_address == "hans@org.dk"
    assert parsed.from_display == "Hans Hansen"
    assert parsed.to == ["hoering@kk.example"]
    assert parsed.sent_at is not None and parsed.sent_at.utcoffset() is not None
    assert parsed.first("SUBJECT") == "Svar"
    assert parsed.problems == []


def test_missing_message_id() -> None:
    """A message without Message-ID parses with message_id None (the caller hashes the raw)."""
    headers = with_headers(Content_Type="text/plain")
    del headers["Message-ID"]
    parsed = parse_message(raw(headers, "Hej"))
    assert parsed.message_id is None
    assert parsed.body_text == "Hej"


def test_deceptive_display_name() -> None:
    """A display name that looks like an address is never the sender's identity."""
    parsed = parse_message(raw(with_headers(From='"hoering@org.dk" <X@Evil.test>'), "x"))
    assert parsed.from_address == "x@evil.test"


def test_unquoted_address_display_name_is_flagged() -> None:
    """``a@org.dk <x@evil.test>``: the bracketed addr-spec wins and the sender is flagged."""
    parsed = parse_message(raw(with_headers(From="a@org.dk <x@evil.test>"), "x"))
    assert parsed.from_address == "x@evil.test"
    assert any("flere adresser" in p for p in parsed.problems)


def test_at_sign_in_comment_is_flagged() -> None:
    """``alice@org.dk(<bob@evil.test>`` (CVE-2023-27043 class) never yields bob and is flagged."""
    parsed = parse_message(raw(with_headers(From="alice@org.dk(<bob@evil.test>"), "x"))
    assert parsed.from_address != "bob@evil.test"
    assert any("flere adresser" in p for p in parsed.problems)


def test_subject_rfc2047_and_controls() -> None:
    """An encoded-word subject is decoded, and NUL/CR/LF are removed from it."""
    subject = "=?iso-8859-1?Q?H=F8ringssvar_=C6=D8=C5?= =?utf-8?B?AGZvbw0KYmFy?="
    parsed = parse_message(raw(with_headers(Subject=subject), "x"))
    assert parsed.subject.startswith("Høringssvar ÆØÅ")
    assert "\x00" not in parsed.subject and "\n" not in parsed.subject and "\r" not in parsed.subject


def test_references_and_in_reply_to() -> None:
    """In-Reply-To and References become lists of bare message-ids."""
    headers = with_headers(In_Reply_To="<inv-1@kk.example>", References="<a@x> <b@y>\r\n <inv-1@kk.example>")
    parsed = parse_message(raw(headers, "x"))
    assert parsed.in_reply_to == ["inv-1@kk.example"]
    assert parsed.references == ["a@x", "b@y", "inv-1@kk.example"]


def test_bad_date_is_none() -> None:
    """An unparseable Date gives sent_at None, not an exception."""
    parsed = parse_message(raw(with_headers(Date="i går ved middagstid"), "x"))
    assert parsed.sent_at is None


def test_header_values_bounded() -> None:
    """At most 200 values per header and 10,000 characters per value are kept."""
    extra = "".join(f"X-Spam: {i}\r\n" for i in range(1_000)) + "X-Long: " + "a" * 50_000 + "\r\n"
    parsed = parse_message(raw(BASE, "x", extra=extra))
    assert len(parsed.header("x-spam")) == 200
    assert parsed.header("x-spam")[0] == "0"
    assert len(parsed.first("x-long")) == 10_000


def test_huge_to_header_is_capped() -> None:
    """A 50,000-address To header is capped at 1,000 with a problem noted."""
    to = ", ".join(f"user{i}@example.org" for i in range(50_000))
    parsed = parse_message(raw(with_headers(To=to), "x"))
    assert len(parsed.to) == 1_000
    assert any("To" in p and "1000" in p for p in parsed.problems)


def test_leading_bom_is_stripped() -> None:
    """A UTF-8 BOM before the first header does not hide the headers."""
    parsed = parse_message(b"\xef\xbb\xbf" + raw(BASE, "Hej"))
    assert parsed.from_address == "hans@org.dk"
    assert parsed.subject == "Svar"


# --- charsets ------------------------------------------------------------------------------------


def test_qp_iso_8859_1_danish() -> None:
    """Quoted-printable iso-8859-1 æøåÆØÅ decode correctly."""
    headers = with_headers(
        Content_Type="text/plain; charset=iso-8859-1", Content_Transfer_Encoding="quoted-printable"
    )
    parsed = parse_message(raw(headers, "H=F8ringssvar: =E6=F8=E5 =C6=D8=C5"))
    assert parsed.body_text == "Høringssvar: æøå ÆØÅ"


def test_cp1252_labelled_latin1() -> None:
    """windows-1252 bytes labelled iso-8859-1 give € and curly quotes, not C1 controls."""
    headers = with_headers(Content_Type="text/plain; charset=iso-8859-1", Content_Transfer_Encoding="8bit")
    parsed = parse_message(raw(headers, "Pris \x80 100, \x93citat\x94 \x96 slut".encode("latin-1")))
    assert parsed.body_text == "Pris € 100, “citat” – slut"


def test_undeclared_utf8_8bit() -> None:
    """Undeclared 8-bit UTF-8 is read as UTF-8, with no U+FFFD."""
    headers = with_headers(Content_Transfer_Encoding="8bit")
    parsed = parse_message(raw(headers, "Kære høringspart, æøå".encode()))
    assert parsed.body_text == "Kære høringspart, æøå"
    assert "\ufffd" not in parsed.body_text


def test_unknown_charset_label() -> None:
    """An unknown label (x-foo) falls back through UTF-8 and cp1252 without crashing."""
    headers = with_headers(Content_Type="text/plain; charset=x-foo", Content_Transfer_Encoding="8bit")
    assert parse_message(raw(headers, "Bemærkning æøå".encode())).body_text == "Bemærkning æøå"
    assert parse_message(raw(headers, "Bemærkning æøå".encode("cp1252"))).body_text == "Bemærkning æøå"


def test_decode_bytes_never_replaces_valid_bytes() -> None:
    """cp1252's five unassigned bytes still decode (to C1), never to U+FFFD."""
    assert "\ufffd" not in decode_bytes(b"a\x81b\x8dc\xe6", None)
    assert decode_bytes("ø".encode("cp1252"), "us-ascii") == "ø"


def test_controls_are_stripped() -> None:
    """NUL and other C0 controls (except newline and tab) are removed from the body."""
    headers = with_headers(Content_Type="text/plain; charset=utf-8")
    parsed = parse_message(raw(headers, "a\x00b\x07c\td\r\ne"))
    assert parsed.body_text == "abc\td\ne"


# --- bodies --------------------------------------------------------------------------------------


OUTLOOK_HTML = """<html><head><style>p.MsoNormal {margin:0}</style>
<script>alert('x')</script><title>Title</title></head>
<body><div class=WordSection1><p class=MsoNormal>Vi har én bemærkning.<o:p></o:p></p>
<p class=MsoNormal>Anden linje&nbsp;med <b>fed</b> tekst.</p>
<img src="https://track.example/pixel.gif" width="1" height="1">
<img src="cid:logo@org"></div></body></html>"""


def test_html_only_outlook() -> None:
    """HTML-only Outlook mail becomes text with no script, style, title or image left."""
    headers = with_headers(Content_Type="text/html; charset=utf-8")
    parsed = parse_message(raw(headers, OUTLOOK_HTML.encode()))
    assert parsed.body_text == "Vi har én bemærkning.\n\nAnden linje med fed tekst."
    for leftover in ("alert", "MsoNormal", "pixel", "<", "Title"):
        assert leftover not in parsed.body_text


def test_html_to_text_line_breaks() -> None:
    """<br> gives a line break, <br><br> and <p> give a paragraph break."""
    assert html_to_text("a<br>b<br><br>c<p>d</p>e") == "a\nb\n\nc\n\nd\n\ne"


def test_plain_preferred_over_html() -> None:
    """In multipart/alternative the text/plain part is the body; inline images are kept, marked."""
    msg = EmailMessage()
    for key in ("From", "To", "Subject", "Message-ID"):
        msg[key] = BASE[key]
    msg.set_content("Ren tekst")
    msg.add_alternative("<p>HTML tekst</p><img src='cid:logo'>", subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(b"\x89PNG\r\n\x1a\n" + b"0" * 20, "image", "png", cid="<logo>")
    parsed = parse_message(msg.as_bytes())
    assert parsed.body_text == "Ren tekst"
    assert [a.inline for a in parsed.attachments] == [True]


def test_inline_reply_between_quotes_is_kept() -> None:
    """Answers written between quoted lines stay in answer_text; the quotes go."""
    body = (
        "Den 10. okt. 2025 kl. 09.00 skrev Kommunen <hoering@kk.example>:\r\n"
        "> Har I bemærkninger til afsnit 1?\r\n"
        "Ja, afsnit 1 bør nævne frivillige.\r\n"
        "> Og afsnit 2?\r\n"
        "Afsnit 2 er fint.\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type="text/plain; charset=utf-8"), body))
    assert "Ja, afsnit 1 bør nævne frivillige." in parsed.answer_text
    assert "Afsnit 2 er fint." in parsed.answer_text
    assert ">" not in parsed.answer_text
    assert "Har I bemærkninger" in parsed.body_text


def test_answer_text_drops_outlook_history() -> None:
    """Top-posted answers lose the Outlook reply header and the quoted invitation."""
    body = (
        "Vi støtter forslaget.\r\n\r\n"
        "Fra: Kommunen <hoering@kk.example>\r\nSendt: 10. oktober 2025 09:00\r\n"
        "Til: Hans\r\nEmne: Høring\r\n\r\nKære høringspart ...\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type="text/plain; charset=utf-8"), body))
    assert parsed.answer_text == "Vi støtter forslaget."


# --- attachments ---------------------------------------------------------------------------------


def test_rfc2047_traversal_filename() -> None:
    """An encoded-word filename ../../etc/cron.d/x.xlsx is displayed without any path."""
    encoded = "=?utf-8?B?Li4vLi4vZXRjL2Nyb24uZC94Lnhsc3g=?="
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nSe vedhæftet\r\n"
        f'--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="{encoded}"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\naGVq\r\n--b--\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body.encode()))
    assert len(parsed.attachments) == 1
    assert "/" not in parsed.attachments[0].display_name
    assert "\\" not in parsed.attachments[0].display_name
    assert parsed.attachments[0].data == b"hej"


def test_forwarded_message() -> None:
    """A message/rfc822 part sets forwarded_author and its text follows the forward marker."""
    inner = raw(
        {
            "From": "Party <party@forening.dk>",
            "Subject": "Vores svar",
            "Content-Type": "text/plain; charset=utf-8",
        },
        "Vi har ingen bemærkninger.",
    ).decode()
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nVideresendt til rette sted.\r\n"
        f"--b\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--b--\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body.encode()))
    assert parsed.forwarded_author == "party@forening.dk"
    assert parsed.from_address == "hans@org.dk"
    before, marker, after = parsed.body_text.partition(FORWARD_MARKER)
    assert marker and "Videresendt til rette sted." in before
    assert "Vi har ingen bemærkninger." in after
    assert any(a.content_type == "message/rfc822" for a in parsed.attachments)


def test_loose_image_is_an_attachment_not_inline() -> None:
    """An image attached without Content-ID or inline disposition is a file, not an inline image."""
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nFoto af brevet\r\n"
        '--b\r\nContent-Type: image/jpeg; name="brev.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/\r\n'
        "--b\r\nContent-Type: image/png\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO\r\n"
        "--b--\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body))
    assert (parsed.attachments[0].display_name, parsed.attachments[0].inline) == ("brev.jpg", False)
    assert parsed.attachments[1].inline


def test_unquoted_outlook_express_boundary() -> None:
    """``boundary=----=_NextPart…`` unquoted is repaired, so the text part is found."""
    body = "------=_NextPart_0\r\nContent-Type: text/plain\r\n\r\nHej med dig\r\n------=_NextPart_0--\r\n"
    parsed = parse_message(
        raw(with_headers(Content_Type="multipart/alternative; boundary=----=_NextPart_0"), body)
    )
    assert parsed.body_text == "Hej med dig"
    assert parsed.attachments == []


def test_base64_encoded_forwarded_message() -> None:
    """A message/rfc822 part sent base64-encoded is decoded before it is read."""
    inner = base64.b64encode(b"From: p@forening.dk\r\nSubject: x\r\n\r\nIndre tekst\r\n").decode()
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nSe vedhaeftet\r\n"
        f"--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{inner}\r\n--b--\r\n"
    )
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body))
    assert parsed.forwarded_author == "p@forening.dk"
    assert "Indre tekst" in parsed.body_text


# --- DSN -----------------------------------------------------------------------------------------


def test_dsn_uppercase_report_type_and_delayed() -> None:
    """report-type=DELIVERY-STATUS (upper case) with Action: Delayed gives a delayed report."""
    body = (
        "--r\r\nContent-Type: text/plain\r\n\r\nDelivery is delayed.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example\r\n\r\n"
        "Final-Recipient: RFC822; Part@Org.DK\r\nAction: Delayed\r\nStatus: 4.4.7\r\n"
        "Diagnostic-Code: smtp; 451 try later\r\n"
        "\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        "Message-ID: <inv-42@kk.example>\r\nSubject: Høring\r\n"
        "\r\n--r--\r\n"
    )
    headers = with_headers(
        From="MAILER-DAEMON@mx.example",
        Content_Type='multipart/report; report-type=DELIVERY-STATUS; boundary="r"',
    )
    parsed = parse_message(raw(headers, body))
    assert len(parsed.delivery_reports) == 1
    report = parsed.delivery_reports[0]
    assert (report.recipient, report.action, report.status) == ("part@org.dk", "delayed", "4.4.7")
    assert "451" in report.diagnostic
    assert parsed.returned_message_id == "inv-42@kk.example"
    assert parsed.body_text == "Delivery is delayed."


# --- limits --------------------------------------------------------------------------------------


def test_deep_nesting() -> None:
    """5,000 nested multiparts: no exception, a problem recorded, under 2 s."""
    levels = 5_000
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(levels)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(levels)))
    data = (
        raw({"From": "a@org.dk", "Subject": "dyb"}, "", extra="")
        + (opening + "Content-Type: text/plain\r\n\r\nbund\r\n" + closing).encode()
    )
    parsed = parse_message(data)
    assert parsed.problems
    assert parsed.from_address == "a@org.dk"


def test_nesting_over_limit_is_cut() -> None:
    """30 nested levels (under the pre-check) stop the walk at depth 20 with a problem."""
    levels = 30
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(levels)
    )
    closing = "".join(f"--b{i}--\r\n" for i in reversed(range(levels)))
    data = b"From: a@org.dk\r\n" + (opening + "Content-Type: text/plain\r\n\r\nbund\r\n" + closing).encode()
    parsed = parse_message(data)
    assert any("dybt" in p for p in parsed.problems)


def test_many_sibling_parts_refused() -> None:
    """100,000 sibling MIME parts are refused before parsing."""
    body = "".join("--b\r\n\r\nx\r\n" for _ in range(100_000)) + "--b--\r\n"
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body))
    assert any("MIME-dele" in p for p in parsed.problems)
    assert parsed.from_address == "hans@org.dk"


def test_oversized_message_keeps_headers() -> None:
    """A message above max_bytes keeps its headers, skips its body and says why."""
    data = raw(with_headers(Content_Type="text/plain"), "x" * 5_000)
    parsed = parse_message(data, max_bytes=1_000)
    assert parsed.message_id == "abc@org.dk"
    assert parsed.body_text == ""
    assert any(p.startswith("Beskeden er for stor") for p in parsed.problems)


def test_garbage_never_raises() -> None:
    """Arbitrary bytes give a ParsedMessage, never an exception."""
    for data in (
        b"",
        b"\x00\xff" * 100,
        b"Content-Type: multipart/mixed\r\n\r\n--",
        b"From: <<<@@@>>>\r\n\r\n",
    ):
        parsed = parse_message(data)
        assert parsed.subject is not None


def test_defects_are_recorded() -> None:
    """A missing closing boundary is recovered and logged as a defect."""
    body = "--b\r\nContent-Type: text/plain\r\n\r\nTekst uden slut\r\n"
    parsed = parse_message(raw(with_headers(Content_Type='multipart/mixed; boundary="b"'), body))
    assert parsed.body_text == "Tekst uden slut"
    assert any("CloseBoundaryNotFound" in d for d in parsed.defects)


def test_text_and_html_alternative_gives_the_text_once() -> None:
    """A 5 KB text+HTML alternative yields the plain text once, the HTML twin not added to it."""
    msg = EmailMessage()
    for key in ("From", "To", "Subject", "Message-ID", "Date"):
        msg[key] = BASE[key]
    text = "Vi har følgende bemærkninger til høringen om strategien. " * 40
    msg.set_content(text)
    msg.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
    parsed = parse_message(msg.as_bytes())
    assert parsed.body_text.count("Vi har følgende bemærkninger") == 40
    assert not parsed.problems
