"""A round through the services (no Prefect): invite once, collect once, judge lateness, assemble."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from flows.adapters.db.tables import OutboxRow, RawMessageRow, ResponseRow
from flows.bootstrap import App, bootstrap
from flows.services import assembling, collecting, ingesting, inviting
from flows.services.opening import open_round
from flows.settings import Settings

ROUND = """\
id = "test-runde"
title = "Strategi for værestederne"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = {deadline}
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d"]

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
"""


def make_app(
    tmp_path: Path, deadline: str = "2025-10-24T23:59:59+02:00", now: str = "2025-10-16T09:00:00+02:00"
) -> App:
    base = tmp_path / "round"
    base.mkdir(exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    (base / "runde.toml").write_text(ROUND.format(deadline=deadline), encoding="utf-8")
    app = bootstrap(Settings(data_dir=tmp_path / "var", now=datetime.fromisoformat(now)))
    open_round(app, base / "runde.toml")
    return app


def deliver(
    app: App, name: str, sender: str, body: str, received: str, subject: str = "SV: [Høring test-runde]"
) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hoering@kk.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<{name}@test.example>"
    message.set_content(body)
    deliver_bytes(app, name, message.as_bytes(), received)


def deliver_bytes(app: App, name: str, data: bytes, received: str) -> None:
    """A message into the Maildir as our server delivers it: its Received stamp and file name agree."""
    stamp = format_datetime(datetime.fromisoformat(received))
    inbox = app.settings.resolved_data_dir / "inbox" / "new"
    inbox.mkdir(parents=True, exist_ok=True)
    when = datetime.fromisoformat(received)
    (inbox / f"{int(when.timestamp())}.{name}.host").write_bytes(
        f"Received: by mx.kk.example; {stamp}\r\n".encode() + data
    )
    if app.now() < when:  # the clock moves on as mail arrives: a later collect never sees the future
        app.clock = lambda: when + timedelta(minutes=1)


def collect(app: App) -> None:
    collecting.fetch(app)
    for chunk in collecting.chunks(collecting.pending_raw_ids(app), 100):
        ingesting.process_batch(app, "test-runde", chunk)


def count(app: App, table: type) -> int:
    with app.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_invite_twice_writes_one_file_per_recipient(tmp_path: Path) -> None:
    """A second invite sends nothing: one outbox row and one .eml file per recipient."""
    app = make_app(tmp_path)

    first = inviting.invite(app, "test-runde")
    second = inviting.invite(app, "test-runde")

    files = list(app.settings.outbox_dir.glob("*.eml"))
    assert (first.delivery.sent, second.queued, second.delivery.sent) == (3, 0, 0)
    assert len(files) == 3
    assert count(app, OutboxRow) == 3
    assert all(
        b"[H\xc3\xb8ring test-runde]" in f.read_bytes() or b"=?utf-8?" in f.read_bytes() for f in files
    )


def test_collect_twice_doubles_nothing(tmp_path: Path) -> None:
    """Collecting the same inbox again stores and records nothing new."""
    app = make_app(tmp_path)
    deliver(
        app,
        "a",
        "aeldre@raad.example",
        "Vi støtter forslaget om flere væresteder i byen.",
        "2025-10-20T10:00:00+02:00",
    )
    deliver(app, "b", "Jens <jens@roedekors.example>", "Ingen bemærkninger.", "2025-10-21T10:00:00+02:00")

    collect(app)
    collect(app)

    assert count(app, RawMessageRow) == 2
    assert count(app, ResponseRow) == 2


@pytest.mark.parametrize(
    ("deadline", "on_time", "late"),
    [
        ("2025-10-24T23:59:59+02:00", "2025-10-24T23:59:59+02:00", "2025-10-25T00:00:00+02:00"),
        # Right after the change to winter time: the wall clock repeats 02:00-03:00 that night.
        ("2025-10-26T23:59:59+01:00", "2025-10-26T22:59:59+00:00", "2025-10-27T00:00:00+01:00"),
    ],
)
def test_on_time_and_late_at_the_deadline_second(
    tmp_path: Path, deadline: str, on_time: str, late: str
) -> None:
    """The deadline second is on time, the next second is late, by our server's receipt time."""
    app = make_app(tmp_path, deadline=deadline)
    deliver(app, "ontime", "aeldre@raad.example", "Vores svar kommer her i sidste sekund.", on_time)
    deliver(app, "late", "kbh@roedekors.example", "Vores svar kommer et sekund for sent.", late)

    collect(app)

    with app.db.transaction() as session:
        lateness = {r.message_id: r.late for r in session.scalars(select(ResponseRow))}
    assert lateness == {"ontime@test.example": False, "late@test.example": True}


def test_sender_matched_by_address_then_domain_and_unknown_goes_to_review(tmp_path: Path) -> None:
    """Address and domain find the party; a stranger is kept for review, not counted."""
    app = make_app(tmp_path)
    deliver(
        app, "a", "AELDRE@RAAD.EXAMPLE", "Et svar fra Ældrerådet om strategien.", "2025-10-20T10:00:00+02:00"
    )
    deliver(
        app,
        "b",
        "anden@roedekors.example",
        "Et svar fra en kollega i Røde Kors.",
        "2025-10-20T11:00:00+02:00",
    )
    deliver(
        app,
        "c",
        "fremmed@andet.example",
        "Jeg er ikke inviteret, men svarer alligevel.",
        "2025-10-20T12:00:00+02:00",
    )

    collect(app)
    assembly = assembling.build_assembly(app, "test-runde")

    assert [r.party for r in assembly.responses] == ["Ældrerådet", "Røde Kors"]
    assert [r.sender for r in assembly.review] == ["fremmed@andet.example"]


def test_staff_replies_survive_a_second_assemble(tmp_path: Path) -> None:
    """What staff type in the log is kept when assemble runs again after new responses."""
    app = make_app(tmp_path)
    deliver(
        app,
        "a",
        "aeldre@raad.example",
        "Vi ønsker længere åbningstider på værestederne.",
        "2025-10-20T10:00:00+02:00",
    )
    collect(app)
    first = assembling.assemble(app, "test-runde", tmp_path / "out")
    book = load_workbook(first.log)
    sheet = book["Bemærkninger"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 2).value == "Ældrerådet")
    sheet.cell(row, header.index("Forvaltningens bemærkning") + 1, "Åbningstiderne udvides fra 2026.")
    sheet.cell(row, header.index("Ændring i udkastet") + 1, "Side 4: åbningstider tilføjet.")
    book.save(first.log)

    deliver(
        app,
        "b",
        "kbh@roedekors.example",
        "Vi foreslår flere frivillige på værestederne.",
        "2025-10-19T09:00:00+02:00",
    )
    collect(app)
    second = assembling.assemble(app, "test-runde", tmp_path / "out")

    sheet = load_workbook(second.log)["Bemærkninger"]
    header = [c.value for c in sheet[1]]
    replies = {
        sheet.cell(r, 2).value: sheet.cell(r, header.index("Forvaltningens bemærkning") + 1).value
        for r in range(2, sheet.max_row + 1)
    }
    # Røde Kors answered first, so Ældrerådet's remark is shown as 2.1 now: the reply follows it
    assert replies["Ældrerådet"] == "Åbningstiderne udvides fra 2026."
    assert replies["Røde Kors"] is None
    from docx import Document

    note_text = "\n".join(p.text for p in Document(str(second.note)).paragraphs)
    assert "Åbningstiderne udvides fra 2026." in note_text


def set_review_decision(log: Path, sender: str, decision: str, party: str) -> None:
    book = load_workbook(log)
    sheet = book["Til gennemsyn"]
    header = [c.value for c in sheet[1]]
    row = next(
        r for r in range(2, sheet.max_row + 1) if sheet.cell(r, header.index("Afsender") + 1).value == sender
    )
    sheet.cell(row, header.index("Beslutning") + 1, decision)
    sheet.cell(row, header.index("Høringspart") + 1, party)
    book.save(log)


def test_staff_include_an_unknown_sender_and_it_is_counted(tmp_path: Path) -> None:
    """`Medtag` with a party name in Til gennemsyn makes the item a counted response of that party."""
    app = make_app(tmp_path)
    deliver(
        app,
        "a",
        "formand@privat.example",
        "Stille Forening støtter udkastet fuldt ud.",
        "2025-10-20T10:00:00+02:00",
    )
    collect(app)
    first = assembling.assemble(app, "test-runde", tmp_path / "out")
    assert (first.counted, first.review) == (0, 1)

    set_review_decision(first.log, "formand@privat.example", "Medtag", "Stille Forening")
    second = assembling.assemble(app, "test-runde", tmp_path / "out")

    assembly = assembling.build_assembly(app, "test-runde")
    assert second.counted == 1
    assert [r.party for r in assembly.responses] == ["Stille Forening"]
    statuses = {p.name: p.status.value for p in assembly.parties}
    assert statuses["Stille Forening"] == "Svar modtaget"


def test_an_out_of_office_without_headers_is_kept_but_not_counted(tmp_path: Path) -> None:
    """An Exchange-style "Automatisk svar:" with no auto headers goes to review, not to the count."""
    app = make_app(tmp_path)
    deliver(
        app,
        "oof",
        "aeldre@raad.example",
        "Jeg er på ferie til mandag.",
        "2025-10-17T08:00:00+02:00",
        subject="Automatisk svar: [Høring test-runde] Strategi",
    )
    collect(app)

    assembly = assembling.build_assembly(app, "test-runde")

    assert assembly.responses == []
    assert "Automatisk svar" in assembly.review[0].reason
    assert {p.name: p.status.value for p in assembly.parties}["Ældrerådet"] == "Ikke svaret"


def test_receipts_once_per_response_never_to_auto_replies(tmp_path: Path) -> None:
    """A response gets a receipt with its reference; an auto-reply gets none; one a day per address."""
    app = make_app(tmp_path)
    deliver(
        app, "a", "aeldre@raad.example", "Første svar om strategien fra rådet.", "2025-10-20T10:00:00+02:00"
    )
    deliver(
        app, "b", "aeldre@raad.example", "Et tillæg til vores svar samme dag.", "2025-10-20T11:00:00+02:00"
    )
    deliver(
        app,
        "c",
        "kbh@roedekors.example",
        "Fraværende",
        "2025-10-20T12:00:00+02:00",
        subject="Autosvar: [Høring test-runde]",
    )
    collect(app)
    from flows.services.outbox import deliver as send

    send(app, "test-runde", purposes=("receipt",))

    with app.db.transaction() as session:
        receipts = session.scalars(select(OutboxRow).where(OutboxRow.purpose == "receipt")).all()
    assert [r.address for r in receipts] == ["aeldre@raad.example"]
    body = next(app.settings.outbox_dir.glob("*.eml")).read_bytes()
    assert b"Auto-Submitted: auto-replied" in body
    assert b"test-runde-0001" in body


def test_status_counts_agree_with_the_log(tmp_path: Path) -> None:
    """`hoering status` counts in SQL; its numbers and statuses equal what the log shows."""
    from flows.services.status import round_status

    app = make_app(tmp_path)
    inviting.invite(app, "test-runde")
    deliver(
        app, "a", "aeldre@raad.example", "Vi ønsker flere væresteder i byen.", "2025-10-20T10:00:00+02:00"
    )
    deliver(app, "b", "kbh@roedekors.example", "Ingen bemærkninger.", "2025-10-21T10:00:00+02:00")
    deliver(
        app,
        "c",
        "fremmed@andet.example",
        "Et svar fra en, der ikke er inviteret.",
        "2025-10-22T10:00:00+02:00",
    )
    deliver(app, "d", "stille@forening.example", "Et svar efter fristen.", "2025-10-25T10:00:00+02:00")
    collect(app)

    status = round_status(app, "test-runde")
    assembly = assembling.build_assembly(app, "test-runde")

    assert (status["responses"], status["late"], status["needs_review"]) == (
        len(assembly.on_time),
        len(assembly.late),
        len(assembly.review),
    )
    assert [(p["name"], p["status"], p["responses"]) for p in status["parties"]] == [
        (p.name, p.status.value, p.responses) for p in assembly.parties
    ]
    assert status["invited"] == 3


def test_a_campaign_lists_its_senders_once_for_all_its_members(tmp_path: Path) -> None:
    """Three parties send the same text: one campaign of three, its list of names shared, not copied."""
    app = make_app(tmp_path)
    text = (
        "Vi mener at strategien bør give værestederne længere åbningstider om aftenen og i "
        "weekenderne, fordi mange brugere ikke har andre steder at gå hen."
    )
    for n, sender in enumerate(("aeldre@raad.example", "kbh@roedekors.example", "stille@forening.example")):
        deliver(app, f"k{n}", sender, text, f"2025-10-20T1{n}:00:00+02:00")

    collect(app)
    lines = assembling.build_assembly(app, "test-runde").responses

    assert {r.campaign_size for r in lines} == {3}
    assert lines[0].campaign_parties == ("Ældrerådet", "Røde Kors", "Stille Forening")
    assert all(r.campaign_parties is lines[0].campaign_parties for r in lines)


def test_unreachable_mail_server_leaves_invitations_waiting_with_a_retry_time(tmp_path: Path) -> None:
    """Nobody on the SMTP port: every invitation waits, due 30-60 s later; a rerun before then still says so."""
    from datetime import timedelta

    from pydantic import SecretStr

    from tests.support.smtpserver import free_port

    now = datetime.fromisoformat("2025-10-16T09:00:00+02:00")
    make_app(tmp_path)
    app = bootstrap(
        Settings(
            data_dir=tmp_path / "var",
            now=now,
            smtp_url=SecretStr(f"smtp://127.0.0.1:{free_port()}"),
            send_rate_per_minute=0,
        )
    )

    first = inviting.invite(app, "test-runde")
    waiting = inviting.waiting_invitations(app, "test-runde")
    inviting.invite(app, "test-runde")  # the backoff is not over: nothing is attempted

    assert (first.delivery.sent, first.delivery.temp_failed) == (0, 3)
    assert waiting.count == 3 and waiting.unreached
    assert waiting.retry_at is not None
    assert now + timedelta(seconds=30) <= waiting.retry_at <= now + timedelta(seconds=60)
    assert inviting.waiting_invitations(app, "test-runde") == waiting


def test_template_formulas_without_values_are_counted_shown_and_listed_for_review(tmp_path: Path) -> None:
    """An openpyxl-filled template: its formula row is a remark with the formula as text, and is reviewed."""
    import io

    from openpyxl import load_workbook as open_book

    from flows.adapters.response_template import build_template

    app = make_app(tmp_path)
    book = open_book(io.BytesIO(build_template("test-runde", "Strategi", "Ældrerådet", "24. oktober")))
    sheet = book["Høringssvar"]
    sheet["B7"] = '="Flere midler til "&"værestederne"'
    sheet["B8"] = "Længere åbningstider."
    data = io.BytesIO()
    book.save(data)
    message = EmailMessage()
    message["From"] = "aeldre@raad.example"
    message["To"] = "hoering@kk.example"
    message["Subject"] = "SV: [Høring test-runde]"
    message["Message-ID"] = "<skema@test.example>"
    message.set_content("Hermed vores skema.")
    message.add_attachment(
        data.getvalue(),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="skema.xlsx",
    )
    deliver_bytes(app, "skema", message.as_bytes(), "2025-10-20T10:00:00+02:00")

    collect(app)
    assembly = assembling.build_assembly(app, "test-runde")

    assert [r.party for r in assembly.on_time] == ["Ældrerådet"]
    assert [m.text for m in assembly.remarks] == [
        '="Flere midler til "&"værestederne"',
        "Længere åbningstider.",
    ]
    assert [v.reason for v in assembly.review] == [
        "skema.xlsx: Skemaet indeholder formler uden beregnet værdi (række 7) – formlerne er vist som tekst; "
        "kontroller dem i filen"
    ]


HIDDEN = "\u202e\u200b\u2066\u200f"  # right-to-left override, zero-width space, isolate, RTL mark


def test_bidi_and_zero_width_characters_are_not_shown_anywhere(tmp_path: Path) -> None:
    """A party name and a subject with an RLO: log, note, receipt and status show the text without them."""
    from email import message_from_bytes, policy

    from docx import Document

    from flows.services.outbox import deliver as send
    from flows.services.status import round_status

    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    hidden_party = ROUND.replace('name = "Ældrerådet"', f'name = "Æld{HIDDEN}rerådet"')
    (base / "runde.toml").write_text(
        hidden_party.format(deadline="2025-10-24T23:59:59+02:00"), encoding="utf-8"
    )
    app = bootstrap(
        Settings(data_dir=tmp_path / "var", now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"))
    )
    open_round(app, base / "runde.toml")
    subject = f"SV: [Høring test-runde] svar {HIDDEN}fdp.exe"
    deliver(
        app, "a", "aeldre@raad.example", "Vi har ingen indvendinger.", "2025-10-20T10:00:00+02:00", subject
    )
    collect(app)
    send(app, "test-runde", purposes=("receipt",))
    result = assembling.assemble(app, "test-runde", tmp_path / "out")

    log = load_workbook(result.log)
    responses = log["Høringssvar"]
    header = [c.value for c in responses[1]]
    row = [c.value for c in responses[2]]
    assert row[header.index("Høringspart")] == "Ældrerådet"
    assert row[header.index("Emne")] == "SV: [Høring test-runde] svar fdp.exe"
    note = "\n".join(p.text for p in Document(str(result.note)).paragraphs)
    assert "1. Ældrerådet" in note
    receipt = message_from_bytes(
        next(app.settings.outbox_dir.glob("*.eml")).read_bytes(), policy=policy.default
    )
    assert str(receipt["Subject"]) == "Kvittering: SV: [Høring test-runde] svar fdp.exe"
    status = round_status(app, "test-runde")
    assert "Ældrerådet" in [p["name"] for p in status["parties"]]
    shown = [str(c.value) for ws in log.worksheets for r in ws.iter_rows() for c in r if c.value] + [note]
    assert not any(ch in text for text in shown for ch in HIDDEN)


def test_template_from_a_new_address_finds_a_party_whose_name_holds_a_bidi_control(tmp_path: Path) -> None:
    """The template mailed to "Æld<RLO>rerådet" names it cleaned; returned from elsewhere, it still matches."""
    import io

    from flows.services.outbox import deliver as send

    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    hidden_party = ROUND.replace('name = "Ældrerådet"', f'name = "Æld{HIDDEN}rerådet"')
    (base / "runde.toml").write_text(
        hidden_party.format(deadline="2025-10-24T23:59:59+02:00"), encoding="utf-8"
    )
    app = bootstrap(
        Settings(data_dir=tmp_path / "var", now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"))
    )
    open_round(app, base / "runde.toml")
    inviting.invite(app, "test-runde")
    send(app, "test-runde")
    invitation = next(
        f for f in app.settings.outbox_dir.glob("*.eml") if b"aeldre@raad.example" in f.read_bytes()
    )
    from email import message_from_bytes, policy

    mailed = message_from_bytes(invitation.read_bytes(), policy=policy.default)
    template = next(p for p in mailed.iter_attachments() if str(p.get_filename()).endswith(".xlsx"))
    book = load_workbook(io.BytesIO(template.get_content()))
    book["Høringssvar"]["B7"] = "Vi støtter strategien."
    filled = io.BytesIO()
    book.save(filled)
    message = EmailMessage()
    message["From"] = "formand@privat.example"
    message["To"] = "hoering@kk.example"
    message["Subject"] = "Høringssvar"
    message["Message-ID"] = "<retur@test.example>"
    message.set_content("Se skemaet.")
    message.add_attachment(
        filled.getvalue(), maintype="application", subtype="octet-stream", filename="s.xlsx"
    )
    deliver_bytes(app, "retur", message.as_bytes(), "2025-10-20T10:00:00+02:00")

    collect(app)
    assembly = assembling.build_assembly(app, "test-runde")

    assert [r.party for r in assembly.on_time] == ["Ældrerådet"]  # the name is stored cleaned


@pytest.mark.parametrize("swap", ["symlink", "gone"])
def test_a_draft_swapped_or_gone_after_open_stops_the_invitations(tmp_path: Path, swap: str) -> None:
    """The draft is read again at send time without following a link: a link put in its place
    (here to another round's file) or a missing draft sends nothing, and the rows stay due."""
    from flows.core.errors import DraftUnavailableError

    app = make_app(tmp_path)
    draft = tmp_path / "round" / "udkast.pdf"
    secret = tmp_path / "other-round.sqlite3"
    secret.write_bytes(b"SQLite format 3\x00 another round's responses")
    draft.unlink()
    if swap == "symlink":
        draft.symlink_to(secret)

    with pytest.raises(DraftUnavailableError, match=r"udkast\.pdf"):
        inviting.invite(app, "test-runde")

    outbox = app.settings.outbox_dir
    assert not list(outbox.rglob("*.eml"))
    with app.db.transaction() as session:
        states = set(session.scalars(select(OutboxRow.state).where(OutboxRow.purpose == "invitation")))
    assert states == {"pending"}

    draft.unlink(missing_ok=True)
    draft.write_bytes(b"%PDF-1.4 udkast")
    sent = inviting.invite(app, "test-runde")
    assert sent.delivery.sent == 3
    assert all(b"another round" not in p.read_bytes() for p in outbox.rglob("*.eml"))
