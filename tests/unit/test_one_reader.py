"""One rule each where there were two: charset fallback, HTML to text, workbook visibility.

Before the split, an attached file and a mail body went through different fallback chains
(latin-1 last for files, windows-1252 for mail), different HTML routines (BeautifulSoup for
files, lxml events for mail) and two workbook readers. Each test below reads the same input
through both callers and fails on the old code for at least one of them.
"""

from __future__ import annotations

import io
from email.message import EmailMessage

import openpyxl
import pytest

from flows.adapters.attachments import inspect_attachment
from flows.adapters.charset import decode_bytes
from flows.adapters.mailparse import parse_message
from flows.adapters.workbook_text import HIDDEN_MARK, calamine_text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# cp1252 text followed by bytes no strict codec takes and charset-normalizer cannot place (0x81 is
# unassigned in cp1252): the chain ends in its last step for both callers.
UNPLACEABLE = "Pris: 5 € – “tak”\n".encode("cp1252") + bytes(range(0x80, 0x100))


def _mail(body: bytes, ctype: str) -> bytes:
    """A one-part message whose body bytes are sent as they are, with no charset parameter."""
    head = f"From: a@x.example\r\nTo: b@y.example\r\nSubject: svar\r\nContent-Type: {ctype}\r\n"
    return head.encode() + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body


def test_last_fallback_is_windows_1252_for_files_and_mail() -> None:
    """Undecodable bytes end as windows-1252 (€, –, curly quotes), never latin-1's C1 controls."""
    attached = inspect_attachment("svar.txt", "text/plain", UNPLACEABLE).text
    mailed = decode_bytes(UNPLACEABLE)

    assert attached == mailed
    assert attached.startswith("Pris: 5 € – “tak”\n€")
    assert "\x80" not in attached and "\x96" not in attached  # latin-1 gave these invisible controls
    assert "\ufffd" not in attached


def test_byte_order_mark_decides_for_mail_bodies_too() -> None:
    """A UTF-16 body with a BOM and no charset label reads as the file would, not as cp1252 noise."""
    body = "Vi støtter forslaget".encode("utf-16")
    parsed = parse_message(_mail(body, "text/plain"))

    assert parsed.body_text == "Vi støtter forslaget"
    assert inspect_attachment("svar.txt", "text/plain", body).text == "Vi støtter forslaget"


HTML = "<html><body><p>Hej <b>Anna</b>, tak for brevet.</p><p>Vi st\u00f8tter</p></body></html>"


def test_html_file_reads_like_an_html_mail() -> None:
    """Inline tags stay inside their line and paragraphs are separated, in both callers."""
    attached = inspect_attachment("svar.html", "text/html", HTML.encode("utf-8")).text
    mailed = parse_message(_mail(HTML.encode("utf-8"), "text/html; charset=utf-8")).body_text

    assert attached == mailed == "Hej Anna, tak for brevet.\n\nVi støtter"


def _workbook(*, far_cell: bool = False) -> bytes:
    wb = openpyxl.Workbook()
    shown = wb.active
    assert shown is not None
    shown.title = "Svar"
    shown.append(["Synlig bemærkning", "Skjult kolonne"])
    shown.append(["Skjult række"])
    shown.column_dimensions["B"].hidden = True
    shown.row_dimensions[2].hidden = True
    if far_cell:  # a bounding box calamine would allocate whole: the openpyxl reader takes it
        shown["T1500"] = "Langt væk"
        shown.cell(row=1_048_576, column=16_384, value="x")
    lookup = wb.create_sheet("Opslag")
    lookup.append(["Skjult arks tekst"])
    lookup.sheet_state = "hidden"
    secret = wb.create_sheet("Gemt")
    secret.append(["Meget skjult tekst"])
    secret.sheet_state = "veryHidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("far_cell", [False, True], ids=["calamine", "openpyxl"])
def test_hidden_sheets_are_shown_marked_and_noticed(far_cell: bool) -> None:
    """Text on hidden sheets is kept (marked) and named for review; hidden rows and columns are read."""
    att = inspect_attachment("svar.xlsx", XLSX, _workbook(far_cell=far_cell))

    assert att.text.startswith("[Svar]\nSynlig bemærkning\tSkjult kolonne\nSkjult række")
    assert f"[Opslag ({HIDDEN_MARK})]\nSkjult arks tekst" in att.text
    assert f"[Gemt ({HIDDEN_MARK})]\nMeget skjult tekst" in att.text
    assert att.problem is not None
    assert "skjulte ark (»Opslag«, »Gemt«)" in att.problem


def test_sandbox_reader_judges_visibility_as_the_xlsx_reader() -> None:
    """The calamine reader used for .xlsb/.ods/.xls gives the same text and notice as for .xlsx."""
    data = _workbook()
    att = inspect_attachment("svar.xlsx", XLSX, data)

    text, notice = calamine_text(data)

    assert (text, notice) == (att.text, att.problem)
    assert f"[Opslag ({HIDDEN_MARK})]" in text  # both keep the hidden sheet's text in view


def test_a_message_with_an_html_attachment_and_html_body_agree() -> None:
    """The same HTML as body and as attached file gives the same text twice over."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@x.example", "b@y.example", "svar"
    msg.set_content(HTML, subtype="html")
    msg.add_attachment(HTML.encode("utf-8"), maintype="text", subtype="html", filename="svar.html")

    parsed = parse_message(msg.as_bytes())

    assert [a.text for a in parsed.attachments] == [parsed.body_text]
