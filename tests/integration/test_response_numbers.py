"""Responses numbered 1, 2, 3 … in the log, the note and the combined PDF; set-aside items keep their reference."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from flows.adapters.pdf_bundle import write_bundle
from flows.services import assembling
from tests.factories import make_assembly
from tests.integration.test_round_lifecycle import collect, deliver, deliver_bytes, make_app

BOUNCE = (
    b"From: Mail Delivery System <MAILER-DAEMON@mx.forening.example>\r\nTo: hoering@kk.example\r\n"
    b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <b1@mx.forening.example>\r\n"
    b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n\r\n--B\r\n"
    b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.forening.example\r\n\r\n"
    b"Final-Recipient: rfc822; ukendt@forening.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B--\r\n"
)


def _rows(path: Path, sheet: str) -> list[dict[str, object]]:
    ws = load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in row), strict=False)) for row in ws.iter_rows(min_row=2)]


def test_bounces_and_auto_replies_use_up_no_numbers(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    deliver_bytes(app, "bounce", BOUNCE, "2025-10-16T10:00:00+02:00")
    deliver(app, "a", "aeldre@raad.example", "Vi ønsker længere åbningstider.", "2025-10-17T10:00:00+02:00")
    deliver(
        app,
        "oof",
        "stille@forening.example",
        "Jeg er på ferie til og med mandag og læser ikke mail.",
        "2025-10-18T10:00:00+02:00",
        subject="Automatisk svar: [Høring test-runde]",
    )
    deliver(app, "b", "kbh@roedekors.example", "Vi foreslår flere frivillige.", "2025-10-19T10:00:00+02:00")
    collect(app)
    first = assembling.assemble(app, "test-runde", tmp_path / "out")
    ws = load_workbook(first.log)
    remarks = ws["Bemærkninger"]
    header = [c.value for c in remarks[1]]
    row = next(r for r in range(2, remarks.max_row + 1) if remarks.cell(r, 2).value == "Røde Kors")
    remarks.cell(row, header.index("Ændring i udkastet") + 1, "Frivillige nævnt på side 3.")
    ws.save(first.log)
    report = assembling.assemble(app, "test-runde", tmp_path / "out")

    responses = _rows(report.log, "Høringssvar")
    assert [(r["Nr."], r["Høringspart"]) for r in responses] == [(1, "Ældrerådet"), (2, "Røde Kors")]
    assert [r["Nr."] for r in _rows(report.log, "Bemærkninger")] == ["1.1", "2.1"]
    # the stored references stay as they were: the set-aside items keep their own
    review = sorted(str(r["Reference"]) for r in _rows(report.log, "Til gennemsyn"))
    assert review == ["test-runde-0001", "test-runde-0003"]
    assert [r["Reference"] for r in responses] == ["test-runde-0002", "test-runde-0004"]

    note = [p.text for p in Document(str(report.note)).paragraphs]
    assert "Røde Kors (bemærkning 2.1): Frivillige nævnt på side 3." in note

    pdf = "\n".join(page.extract_text() for page in PdfReader(str(report.bundle[0])).pages)
    assert "1. Ældrerådet" in pdf and "2. Røde Kors" in pdf
    assert "3. " not in pdf and "4. Røde Kors" not in pdf


def test_the_bundles_contents_heading_is_on_the_page(tmp_path: Path) -> None:
    """The table of contents' heading starts at the left margin, not past the right edge."""
    path = tmp_path / "bundle.pdf"
    write_bundle(make_assembly(), path)
    page = PdfReader(str(path)).pages[1]
    placed: dict[str, float] = {}

    def visit(text: str, cm: object, tm: list[float], *_: object) -> None:
        if text.strip():
            placed.setdefault(text.strip(), tm[4])

    page.extract_text(visitor_text=visit)
    width = float(page.mediabox.width)
    assert "Indhold" in placed
    assert placed["Indhold"] < width / 4  # the heading where the entries begin
