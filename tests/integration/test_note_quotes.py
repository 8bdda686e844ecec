"""The note of a round answered the way Danish senders answer: quotes end where the answer ends."""

from __future__ import annotations

import re
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from flows.services import assembling
from tests.integration.test_round_lifecycle import collect, deliver, make_app
from tests.support.replies import REPLIES

# Written independently of the trimmer: what must never stand inside a quote of the note
SIGNOFF = re.compile(
    r"med venlig hilsen|venlig hilsen|\bmvh\b|bedste hilsner|sendt fra min|sent from my|"
    r"\bskrev\b.*:|^\s*(fra|sendt|til|emne|da|inviato|oggetto)\s*:|tlf\.|fortrolige",
    re.IGNORECASE | re.MULTILINE,
)


def _body(name: str) -> str:
    return (REPLIES / f"{name}.txt").read_text(encoding="utf-8")


def test_acceptance_round_note_has_no_signoff_inside_a_quote(tmp_path: Path) -> None:
    """Apple Mail, Outlook, an iPhone and a signature with title and phone: the note quotes only the answer,
    and the log's Høringssvar keeps the whole body."""
    app = make_app(tmp_path)
    deliver(
        app,
        "a",
        "aeldre@raad.example",
        _body("25-signatur-titel-telefon-uden-hilsen"),
        "2025-10-17T10:00:00+02:00",
    )
    deliver(app, "b", "kbh@roedekors.example", _body("01-apple-mail-dansk"), "2025-10-18T10:00:00+02:00")
    deliver(
        app,
        "c",
        "stille@forening.example",
        _body("38-apple-dansk-citeret-iphone"),
        "2025-10-19T10:00:00+02:00",
    )
    collect(app)
    report = assembling.assemble(app, "test-runde", tmp_path / "out")

    quotes = [
        p.text
        for p in Document(str(report.note)).paragraphs
        if p.style is not None and p.style.name == "Quote"
    ]
    assert len(quotes) >= 3
    assert "Vi savner dog et afsnit om frivillige under 25 år." in "\n".join(quotes)
    offending = [q for q in quotes if SIGNOFF.search(q)]
    assert offending == []

    sheet = load_workbook(report.log)["Høringssvar"]
    header = [c.value for c in sheet[1]]
    whole = [str(sheet.cell(r, header.index("Hele beskeden") + 1).value) for r in range(2, sheet.max_row + 1)]
    assert any("Mette Jørgensen" in t and "Hermed fremsendes udkast" in t for t in whole), whole
