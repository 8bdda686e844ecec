"""Parts of the case file: the PDF rendition of a message (same bytes every time) and the CSV manifest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flows.adapters.message_pdf import MessageView, read_headers, write_message_pdf

VIEW = MessageView(
    title="Høringssvar fra Ældrerådet",
    headers=(("Fra", "aeldre@raad.example"), ("Emne", "Svar")),
    received="20.10.2025 kl. 10.00",
    body="Vi støtter flere væresteder. " * 40,
    attachments=("bilag æøå.pdf",),
)
WHEN = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


def test_a_rendition_does_not_depend_on_the_messages_rendered_before_it(tmp_path: Path) -> None:
    """Rendered alone, or after another message with other characters: the same bytes."""
    write_message_pdf(VIEW, tmp_path / "a.pdf", WHEN)
    other = MessageView("Andet", (("Fra", "x@y.dk"),), "1.1.2025 kl. 10.00", "0123456789 <>IJhjc", ())
    write_message_pdf(other, tmp_path / "other.pdf", WHEN)
    write_message_pdf(VIEW, tmp_path / "b.pdf", WHEN)
    a, b = ((tmp_path / n).read_bytes() for n in ("a.pdf", "b.pdf"))
    assert a == b
    assert a.startswith(b"%PDF")


def test_headers_are_shown_decoded_and_a_broken_date_as_it_is() -> None:
    data = (
        b"From: =?utf-8?q?J=C3=B8rgen?= <j@example.org>\r\nTo: hoering@kk.example\r\n"
        b"Date: not a date\r\nSubject: =?utf-8?q?H=C3=B8ringssvar?=\r\n\r\nTekst\r\n"
    )
    shown = dict(read_headers(data))
    assert shown["Fra"] == "Jørgen <j@example.org>"
    assert shown["Emne"] == "Høringssvar"
    assert shown["Dato"] == "not a date"


def test_the_csv_manifest_never_hands_excel_a_formula(tmp_path: Path) -> None:
    """A sender's name such as "=HYPERLINK(…)" is text in manifest.csv and exact in manifest.json."""
    import json

    from flows.adapters.case_file import Document, write_manifest

    nasty = '=HYPERLINK("http://x")'
    doc = Document("a.eml", nasty, "Indgående", "2025-10-20T10:00:00+02:00", nasty, "Hoveddokument", "",
                   "message/rfc822", "0" * 64, "", "")  # fmt: skip
    write_manifest(tmp_path, {"round": "r"}, [doc])
    table = (tmp_path / "manifest.csv").read_text(encoding="utf-8-sig")
    assert f'"\'{nasty.replace(chr(34), chr(34) * 2)}"' in table
    assert (
        json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))["documents"][0]["party"] == nasty
    )
