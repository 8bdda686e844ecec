"""The public version of a round, through the services on SQLite (no Prefect): citizens' replies
with CPR numbers in several forms, addresses, telephone numbers and signatures, and one attachment.

The public note and bundle (read back with python-docx and pypdf) hold none of it; look-alike
numbers and the administration's own address survive; the internal documents keep everything;
`Vis` in `Offentliggørelse` undoes one redaction and a row staff add hides their text, on the
next assemble and every one after; the gate refuses a CPR number staff tried to show.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from flows.bootstrap import App, bootstrap
from flows.core import outputs
from flows.core.errors import PublicLeakError
from flows.core.outputs import bundle_paths, output_paths
from flows.services import assembling, collecting, ingesting
from flows.services.opening import open_round
from flows.services.publishing import public_paths
from flows.settings import Settings
from tests.support.databases import fresh_database

ROUND = """\
id = "offentlig-runde"
title = "Plan for legepladser"
subject = "planen"
administration = "Teknik- og Miljøforvaltningen"
consulted_body = "Teknik- og Miljøudvalget"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering-tmf@kk.example"
documents = ["udkast.pdf"]
reminders = []

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Karen Margrethe Jensen"
email = "karen.jensen@privat.example"
person = true

[[parties]]
name = "Ole Nabo"
email = "ole@privat.example"
person = true
"""

CPR_FORMS = ["070761-4285", "0707614286", "111111 1118", "050505.1234", "cpr=2512901234"]
CPR_DIGITS = ["0707614285", "0707614286", "1111111118", "0505051234", "2512901234"]
KAREN = (
    "Jeg bor tæt på legepladsen og er imod planen.\n"
    "Mit CPR-nummer er 070761-4285, min mands er 0707614286 og vores datters 111111 1118.\n"
    "Se også https://borger.example/sag?cpr=2512901234 for min sag.\n"
    "Ring på 22 33 44 55 eller +45 31 41 59 26, eller skriv til karen.privat@mail.example.\n"
    "\n"
    "Med venlig hilsen\n"
    "Karen Margrethe Jensen\n"
)
ATTACHMENT = (
    "Bilag fra Karen: min nabos CPR er 050505.1234 og hans mobil 40 50 60 70.\n"
    "Med venlig hilsen\nKaren Margrethe Jensen\n"
)
COUNCIL = (
    "Ældrerådet støtter planen. Vores ordre 3245678901 og beløbet 1503201234 kr. står i budgettet.\n"
    "CVR 22345678. Mødet var 16-10-2025. Kontakt hoering-tmf@kk.example for referatet.\n"
    "Legepladsen på Skovvej 12 bør bevares.\n"
)
STRANGER = "Jeg er ikke inviteret, men har en mening.\nTlf. 26 27 28 29\n\nVenlig hilsen\nPeter Olsen\n"
LOOK_ALIKES = ["3245678901", "1503201234 kr.", "CVR 22345678", "16-10-2025", "hoering-tmf@kk.example"]


def _attachment_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _deliver(
    app: App, name: str, sender: str, body: str, received: str, attachment: bytes | None = None
) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "hoering-tmf@kk.example"
    message["Subject"] = "SV: [Høring offentlig-runde] Plan for legepladser"
    message["Message-ID"] = f"<{name}@test.example>"
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
            filename="bilag.docx",
        )
    when = datetime.fromisoformat(received)
    inbox = app.settings.resolved_data_dir / "inbox" / "new"
    inbox.mkdir(parents=True, exist_ok=True)
    stamp = f"Received: by mx.kk.example; {format_datetime(when)}\r\n".encode()
    (inbox / f"{int(when.timestamp())}.{name}.host").write_bytes(stamp + message.as_bytes())
    if app.now() < when:
        app.clock = lambda: when + timedelta(minutes=1)


def _collect(app: App) -> None:
    collecting.fetch(app)
    for chunk in collecting.chunks(collecting.pending_raw_ids(app), 100):
        ingesting.process_batch(app, "offentlig-runde", chunk)


def _docx_text(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _digits(text: str) -> str:
    """The text with every separator gone, so a number split over lines or groups is still seen."""
    return re.sub(r"[\s.\-–=]", "", text)


def _set(log: Path, sheet: str, match: dict[str, str], values: dict[str, str | None]) -> None:
    book = load_workbook(log)
    ws = book[sheet]
    header = [c.value for c in ws[1]]
    row = next(
        r
        for r in range(2, ws.max_row + 1)
        if all(ws.cell(r, header.index(k) + 1).value == v for k, v in match.items())
    )
    for key, value in values.items():
        ws.cell(row, header.index(key) + 1).value = value  # cell(r, c, None) would leave the value
    book.save(log)


def _add_row(log: Path, values: dict[str, str]) -> None:
    book = load_workbook(log)
    ws = book["Offentliggørelse"]
    header = [c.value for c in ws[1]]
    row = ws.max_row + 1
    for key, value in values.items():
        ws.cell(row, header.index(key) + 1, value)
    book.save(log)


def _sheet(log: Path) -> list[dict[str, object]]:
    ws = load_workbook(log)["Offentliggørelse"]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in ws.iter_rows(min_row=2)]


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[App]:
    """The round with its three replies collected; SQLite unless the test asks for PostgreSQL."""
    database_url = None
    with ExitStack() as stack:
        if getattr(request, "param", "sqlite") == "postgresql":
            base_url = os.environ.get("HOERING_TEST_PG_URL")
            if not base_url:
                pytest.skip(
                    "HOERING_TEST_PG_URL is unset: run the suite with `make test`, which starts PostgreSQL"
                )
            database_url = stack.enter_context(fresh_database(base_url))
        base = tmp_path / "round"
        base.mkdir()
        (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
        (base / "runde.toml").write_text(ROUND, encoding="utf-8")
        settings = Settings(
            data_dir=tmp_path / "var",
            database_url=database_url,
            now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"),
        )
        application = bootstrap(settings)
        stack.callback(application.db.dispose)
        open_round(application, base / "runde.toml")
        _deliver(application, "karen", "Karen Jensen <karen.jensen@privat.example>", KAREN,
                 "2025-10-20T10:00:00+02:00", _attachment_docx(ATTACHMENT))  # fmt: skip
        _deliver(application, "raad", "aeldre@raad.example", COUNCIL, "2025-10-20T11:00:00+02:00")
        _deliver(
            application, "peter", "Peter Olsen <peter@andet.example>", STRANGER, "2025-10-21T09:00:00+02:00"
        )
        _collect(application)
        yield application


def test_the_public_version_hides_personal_data_and_follows_staff(app: App, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = assembling.assemble(app, "offentlig-runde", out)
    _set(first.log, "Til gennemsyn", {"Afsender": "peter@andet.example"}, {"Beslutning": "Medtag"})

    report = assembling.assemble(app, "offentlig-runde", out)
    note, bundle = public_paths(out, "offentlig-runde")
    assert report.public == (note, bundle) and report.counted == 3
    public = {"note": _docx_text(note), "bundle": _pdf_text(bundle)}
    for where, text in public.items():
        for secret in ["karen.privat@mail.example", "karen.jensen@privat.example", "peter@andet.example"]:
            assert secret not in text, (where, secret)
        for name in ["Karen Margrethe Jensen", "Karen Jensen", "Peter Olsen"]:
            assert name not in text, (where, name)
        for digits in [*CPR_DIGITS, "22334455", "31415926", "26272829"]:
            assert digits not in _digits(text), (where, digits)
        assert "Borger 1" in text and "Borger 2" in text, where  # Karen first, Peter second
        for kept in ["3245678901", "1503201234 kr.", "CVR 22345678", "16-10-2025"]:
            assert kept in text, (where, kept)
        assert "Ældrerådet" in text, where  # organisations keep their names
    # the attachment's text, redacted, is in the public bundle; its digits are gone
    assert "Bilag fra Karen" in public["bundle"] and "40506070" not in _digits(public["bundle"])
    assert "hoering-tmf@kk.example" in public["note"]  # the administration's own address
    assert "Ole Nabo" not in public["note"]  # a person invited by name who did not respond

    internal = _docx_text(report.note) + _pdf_text(report.bundle[0])
    assert "070761-4285" in internal and "Peter Olsen" in internal and "peter@andet.example" in internal
    assert "hilsen\nKaren Margrethe Jensen" in _docx_text(report.note)  # her signature line
    assert "hilsen\nBorger 1" in public["note"]

    rows = _sheet(report.log)
    found = {str(r["Fundet"]): r for r in rows}
    assert {"070761-4285", "0707614286", "111111 1118", "2512901234", "050505.1234"} <= set(found)
    assert found["Karen Margrethe Jensen"]["Erstattet med"] == "Borger 1"
    assert found["Peter Olsen"]["Erstattet med"] == "Borger 2"
    assert "3245678901" not in found and "hoering-tmf@kk.example" not in found

    # Staff show one telephone number and hide a text of their own; the next assemble follows.
    _set(report.log, "Offentliggørelse", {"Fundet": "26 27 28 29"}, {"Beslutning": "Vis"})
    _add_row(report.log, {"Fundet": "Skovvej 12", "Erstattet med": "[adresse]", "Årsag": "Adresse"})
    assembling.assemble(app, "offentlig-runde", out)
    text = _docx_text(note)
    assert "26 27 28 29" in text and "Skovvej 12" not in text and "[adresse]" in text
    assert "Skovvej 12" not in _pdf_text(bundle)

    # ... and again with the log moved away: the decisions are kept, not only in the workbook.
    report.log.unlink()
    again = assembling.assemble(app, "offentlig-runde", out)
    text = _docx_text(note)
    assert "26 27 28 29" in text and "Skovvej 12" not in text
    decisions = {str(r["Fundet"]): r["Beslutning"] for r in _sheet(again.log)}
    assert decisions["26 27 28 29"] == "Vis" and decisions["Skovvej 12"] == "Skjul"

    # Taking the Vis back hides the number again.
    _set(again.log, "Offentliggørelse", {"Fundet": "26 27 28 29"}, {"Beslutning": None})
    assembling.assemble(app, "offentlig-runde", out)
    assert "26272829" not in _digits(_docx_text(note))


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_the_gate_refuses_a_cpr_number_staff_tried_to_show(app: App, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = assembling.assemble(app, "offentlig-runde", out)
    note, bundle = public_paths(out, "offentlig-runde")
    assert note.exists() and bundle.exists()
    _set(report.log, "Offentliggørelse", {"Fundet": "070761-4285"}, {"Beslutning": "Vis"})

    with pytest.raises(PublicLeakError) as refused:
        assembling.assemble(app, "offentlig-runde", out)

    message = str(refused.value)
    assert "Høringssvar 1" in message and "CPR-nummer" in message and "\n" not in message
    assert not note.exists() and not bundle.exists()  # no stale public version left to publish
    assert "070761-4285" in _docx_text(report.note)  # the internal note is written as before


def test_a_round_above_one_volume_is_assembled_in_volumes_both_private_and_public(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr(outputs, "BUNDLE_VOLUME", 1)  # a volume a response: the two counted ones

    report = assembling.assemble(app, "offentlig-runde", out)

    names = output_paths(out, "offentlig-runde")
    assert report.counted == 2 and report.bundle == bundle_paths(names.bundle, 2, 1)
    assert report.public == (names.public_note, *bundle_paths(names.public_bundle, 2, 1))
    assert not names.bundle.exists() and not names.public_bundle.exists()
    second = PdfReader(str(report.bundle[1])).pages[0].extract_text()
    assert "Del 2 af 2: høringssvar nr. 2" in second and "(2)" in second  # the round's total
    public_front = PdfReader(str(report.public[1])).pages[0].extract_text()
    assert "offentlig version" in public_front and "Del 1 af 2: høringssvar nr. 1" in public_front
    assert "karen.jensen@privat.example" not in _pdf_text(report.public[1]) + _pdf_text(report.public[2])
    with app.uow() as uow:
        *_, detail = uow.records.event_details("offentlig-runde", "assemble", "written")
    assert detail["bundle"] == [str(p) for p in report.bundle]
    assert detail["public"] == [str(p) for p in report.public]

    monkeypatch.setattr(outputs, "BUNDLE_VOLUME", 5_000)
    again = assembling.assemble(app, "offentlig-runde", out)

    assert again.bundle == (names.bundle,) and again.public == (names.public_note, names.public_bundle)
    assert sorted(p.name for p in out.iterdir() if "-del-" in p.name) == []  # no volume left beside
