"""The sample round of ``hoering demo``: a round file, a draft, and sample mail in the Maildir.

Modelled on a council hearing (Frivillig- og Udsatterådet); the response texts are written for
this project. Every file is written once (fixed names), so running the demo again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from fpdf import FPDF

ROUND_ID = "sof-partnerskab-demo"
REPLY_TO = "hoering-sof@kk.example"
OPENS = datetime.fromisoformat("2025-10-16T00:00:00+02:00")
DEADLINE = datetime.fromisoformat("2025-10-24T23:59:59+02:00")

# When each step of the demo runs, by the replay clock.
CLOCK = {
    "open": "2025-10-15T14:00:00+02:00",
    "invite": "2025-10-16T09:00:00+02:00",
    "collect": "2025-10-22T08:00:00+02:00",
    "remind": "2025-10-22T09:00:00+02:00",
    "close": "2025-10-27T09:00:00+01:00",
    "assemble": "2025-10-27T09:30:00+01:00",
}

PARTIES = [
    ("SAND Hovedstaden", "sand@sand-hovedstaden.example"),
    ("Røde Kors Hovedstaden", "hovedstaden@roedekors.example"),
    ("WeShelter", "post@weshelter.example"),
    ("Red Barnet Ungdom", "rbu@redbarnet.example"),
    ("Kirkens Korshær", "kbh@kirkenskorshaer.example"),
    ("Frelsens Hær", "kbh@frelsenshaer.example"),
    ("Projekt Udenfor", "info@udenfor.example"),
    ("Hjem til Alle Alliancen", "sekretariat@hjemtilalle.example"),
    ("Mændenes Hjem", "kontakt@maendeneshjem.example"),
    ("Foreningen af Væresteder", "forening@vaeresteder.example"),
]

ROUND_TOML = f"""\
id = "{ROUND_ID}"
title = "Ét SOF's strategi for partnerskabende samarbejde med civilsamfundet"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = {OPENS.isoformat()}
deadline = {DEADLINE.isoformat()}
reply_to = "{REPLY_TO}"
documents = ["udkast-strategi.pdf"]
reminders = ["3d", "1d"]
late_policy = "flag"
parties = "parties.csv"
"""


@dataclass(frozen=True)
class DemoPaths:
    base: Path
    round_file: Path
    maildir: Path


def write_round(base: Path) -> DemoPaths:
    base.mkdir(parents=True, exist_ok=True)
    round_file = base / "runde.toml"
    round_file.write_text(ROUND_TOML, encoding="utf-8")
    rows = ["name,email"] + [f"{name},{address}" for name, address in PARTIES]
    (base / "parties.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    draft = base / "udkast-strategi.pdf"
    if not draft.exists():
        _write_draft(draft)
    return DemoPaths(base, round_file, base.parent / "inbox")


def _write_draft(path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, "Udkast: strategi for partnerskabende samarbejde", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=11)
    pdf.multi_cell(
        0,
        6,
        "Socialforvaltningen vil styrke samarbejdet med civilsamfundet gennem "
        "faelles laering, en aarlig markedsdag og et mini-topmoede.",
    )
    pdf.output(str(path))


def _message(
    sender: tuple[str, str],
    subject: str,
    received: str,
    *,
    headers: dict[str, str] | None = None,
    in_reply_to: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f'"{sender[0]}" <{sender[1]}>'
    message["To"] = REPLY_TO
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender[1].split("@")[1])
    when = datetime.fromisoformat(received)
    message["Date"] = format_datetime(when)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    return message


def _deliver(maildir: Path, name: str, message: EmailMessage | bytes, received: str) -> None:
    """As our mail server would: a Received header on top, a Maildir file named by delivery time."""
    when = datetime.fromisoformat(received)
    path = maildir / "new" / f"{int(when.timestamp())}.demo-{name}.hoering"
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    data = message if isinstance(message, bytes) else message.as_bytes()
    stamp = format_datetime(when)
    received_header = f"Received: from mx.kk.example by imap.kk.example; {stamp}\r\n".encode()
    path.write_bytes(received_header + data)


SAND_TEXT = """Tak for muligheden for at kommentere udkastet.

Vi vil gerne pege på, at brugerorganisationerne er en del af civilsamfundet, men at de ofte bliver
overset, når der indgås partnerskaber. Brugerorganisationerne har en viden om målgruppen, som ingen
andre har, fordi medlemmerne selv har erfaringen. Vi foreslår derfor, at brugerorganisationerne
nævnes udtrykkeligt i afsnittet om visioner.

Med venlig hilsen
Sekretariatet, SAND Hovedstaden
"""

RED_CROSS_HTML = """<html><head><style>p {margin:0}</style><script>track()</script></head>
<body><div class="WordSection1">
<p>Kære Socialforvaltning</p>
<p>Det er positivt, at der nu arbejdes på fælles rammer for samarbejdet med civilsamfundet.</p>
<p>Vi anbefaler, at strategiens formål bliver kort og præcist, og at det beskriver, hvad partnerne
sammen vil opnå for borgerne. Vi foreslår desuden en kortlægning af de partnerskaber, der allerede
findes, så erfaringerne kan bruges fremover.</p>
<p>Endelig vil vi bemærke, at høringsfristen har været kort for små organisationer.</p>
<p>Venlig hilsen<br>Røde Kors Hovedstaden</p>
<img src="https://tracker.example/pixel.gif" width="1" height="1">
</div></body></html>"""

RBU_TEXT = """Hej

Tak for et godt og samlende materiale.

Vi savner, at de eksisterende koalitioner, som vi og andre organisationer deltager i, nævnes som
mulige samarbejdsparter. Vi savner også et tydeligt fokus på unge, som sjældent selv finder vej
til råd og nævn.

Venlig hilsen
Red Barnet Ungdom

> Socialforvaltningen sender hermed udkast til strategien i høring.
> Vi vil gerne have jeres bemærkninger senest fredag den 24. oktober 2025 kl. 23.59.
"""


def place_responses(maildir: Path, invitation_ids: dict[str, str]) -> int:
    """Sample mail as it would arrive: plain, HTML, an Excel template, late, out-of-office, bounce."""
    from flows.adapters.response_template import build_template

    parties = dict(PARTIES)
    token = f"[Høring {ROUND_ID}]"

    plain = _message(
        ("SAND Hovedstaden", parties["SAND Hovedstaden"]),
        f"SV: {token} Høringssvar",
        "2025-10-20T10:14:00+02:00",
        in_reply_to=invitation_ids.get("SAND Hovedstaden"),
    )
    plain.set_content(SAND_TEXT)
    _deliver(maildir, "sand", plain, "2025-10-20T10:14:00+02:00")

    html = _message(
        ("Røde Kors Hovedstaden", parties["Røde Kors Hovedstaden"]),
        f"{token} Bemærkninger",
        "2025-10-22T15:02:00+02:00",
    )
    html.set_content(RED_CROSS_HTML, subtype="html")
    _deliver(maildir, "roedekors", html, "2025-10-22T15:02:00+02:00")

    template = _filled_template(
        build_template(ROUND_ID, "Ét SOF's strategi", "WeShelter", "fredag den 24. oktober 2025 kl. 23.59")
    )
    sheet = _message(
        ("WeShelter", parties["WeShelter"]), f"SV: {token} Høringsskema", "2025-10-24T21:40:00+02:00"
    )
    sheet.set_content("Hermed vores høringssvar i det vedhæftede skema.\n\nVenlig hilsen\nWeShelter\n")
    sheet.add_attachment(
        template,
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="høringsskema WeShelter.xlsx",
    )
    _deliver(maildir, "weshelter", sheet, "2025-10-24T21:40:00+02:00")

    rbu = _message(
        ("Red Barnet Ungdom", parties["Red Barnet Ungdom"]), f"SV: {token}", "2025-10-24T12:30:00+02:00"
    )
    rbu.set_content(RBU_TEXT)
    _deliver(maildir, "rbu", rbu, "2025-10-24T12:30:00+02:00")

    praise = _message(
        ("Kirkens Korshær", parties["Kirkens Korshær"]), f"SV: {token}", "2025-10-24T23:59:59+02:00"
    )
    praise.set_content("Blot stor ros herfra.\n")
    _deliver(maildir, "korshaer", praise, "2025-10-24T23:59:59+02:00")

    nothing = _message(("Frelsens Hær", parties["Frelsens Hær"]), f"SV: {token}", "2025-10-21T08:05:00+02:00")
    nothing.set_content("Ingen bemærkninger.\n\nMed venlig hilsen\nFrelsens Hær\n")
    _deliver(maildir, "frelsenshaer", nothing, "2025-10-21T08:05:00+02:00")

    late = _message(
        ("Projekt Udenfor", parties["Projekt Udenfor"]),
        f"SV: {token} Vores svar",
        "2025-10-25T00:00:00+02:00",
    )
    late.set_content(
        "Undskyld at svaret kommer sent. Vi foreslår, at gadeplansarbejdet får sit eget "
        "afsnit i strategien, så de mest udsatte borgere ikke bliver glemt.\n\n"
        "Venlig hilsen\nProjekt Udenfor\n"
    )
    _deliver(maildir, "udenfor", late, "2025-10-25T00:00:00+02:00")

    away = _message(
        ("Hjem til Alle Alliancen", parties["Hjem til Alle Alliancen"]),
        f"Automatisk svar: {token} Ét SOF's strategi",
        "2025-10-16T09:01:00+02:00",
    )
    away.set_content("Jeg er på ferie til og med den 27. oktober og læser ikke mail.\n")
    _deliver(maildir, "autosvar", away, "2025-10-16T09:01:00+02:00")

    _deliver(
        maildir,
        "bounce",
        _bounce(parties["Mændenes Hjem"], invitation_ids.get("Mændenes Hjem")),
        "2025-10-16T09:02:00+02:00",
    )

    citizen = _message(
        ("Jens Hansen", "jens.hansen@borger.example"), "Strategien", "2025-10-23T19:45:00+02:00"
    )
    citizen.set_content("Jeg synes, at strategien skal have flere penge til væresteder.\n")
    _deliver(maildir, "borger", citizen, "2025-10-23T19:45:00+02:00")
    return len(list((maildir / "new").iterdir()))


def _filled_template(data: bytes) -> bytes:
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    sheet = book["Høringssvar"]
    header_row = next(
        int(row[0].row or 0)
        for row in sheet.iter_rows(min_row=1, max_row=30)
        if any(str(c.value or "").strip().lower().startswith("bemærkning") for c in row)
    )
    columns = {str(c.value).strip(): int(c.column or 0) for c in sheet[header_row] if c.value}
    rows = [
        (
            "Side 2, formål",
            "Visionen bør tage udgangspunkt i socialt udsatte københavneres hverdag.",
            "Skriv konkret, hvilke forandringer partnerskaberne skal skabe for borgerne.",
        ),
        (
            "Side 7",
            "Civilsamfundet er en selvstændig kraft, der udvikler nye løsninger.",
            "Inddrag civilsamfundet tidligt, som medudvikler og ikke kun som leverandør.",
        ),
        (
            "Side 8",
            'Ordet "potentialer" er uklart; strategien mangler målbare pejlemærker.',
            "Opstil mål for antallet af nye partnerskaber og en flerårig plan med milepæle.",
        ),
    ]
    for offset, (section, remark, proposal) in enumerate(rows, start=1):
        sheet.cell(header_row + offset, columns["Afsnit / side"], section)
        sheet.cell(header_row + offset, columns["Bemærkning"], remark)
        sheet.cell(header_row + offset, columns["Forslag til ændring"], proposal)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _bounce(address: str, invitation_id: str | None) -> bytes:
    """An RFC 3464 delivery status notification, as Postfix writes one."""
    date = format_datetime(datetime.fromisoformat("2025-10-16T09:02:00+02:00"))
    original_id = invitation_id or "<ukendt@hoering.invalid>"
    text = f"""From: Mail Delivery System <MAILER-DAEMON@mx.kk.example>
To: {REPLY_TO}
Subject: Undelivered Mail Returned to Sender
Message-ID: {make_msgid(domain="mx.kk.example")}
Date: {date}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=utf-8

Beskeden kunne ikke leveres til {address}: modtageren findes ikke.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.kk.example

Final-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--BOUNDARY
Content-Type: text/rfc822-headers

Message-ID: {original_id}
To: {address}
Subject: [Hoering {ROUND_ID}] invitation

--BOUNDARY--
"""
    return text.replace("\n", "\r\n").encode()
