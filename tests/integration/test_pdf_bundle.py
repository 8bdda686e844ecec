"""The combined PDF of all responses: front page, contents, every response, with and without DejaVu."""

from __future__ import annotations

from pathlib import Path

from flows.adapters.pdf_bundle import write_bundle
from tests.factories import make_assembly, response


def test_bundle_is_written_with_a_page_per_section(tmp_path: Path) -> None:
    """A PDF with an outline entry per response is written under the given name."""
    a = make_assembly(5, late=1)
    a.responses[0] = response(1, "SAND Hovedstaden", "Æbler, øl og å – ”citat”", attachments=("bilag.pdf",))
    path = tmp_path / f"{a.round.id}-samlede-hoeringssvar.pdf"
    write_bundle(a, path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF") and b"/Outlines" in data
    assert data.count(b"/Title") >= len(a.responses)


def test_bundle_falls_back_to_core_fonts(tmp_path: Path) -> None:
    """Without the DejaVu fonts the bundle is still written, with Latin-1 text."""
    a = make_assembly(2)
    a.responses[0] = response(1, "Ærø", "Tekst med ”anførselstegn” og emoji \U0001f600")
    path = tmp_path / "b.pdf"
    write_bundle(a, path, font_dir=tmp_path / "no-fonts")
    assert path.read_bytes().startswith(b"%PDF")


def test_long_words_and_paragraphs_are_wrapped_inside_the_page(tmp_path: Path) -> None:
    """Lines, including a URL wider than the page, are wrapped to the text width."""
    from flows.adapters.pdf_bundle import _new_pdf, _wrap

    pdf = _new_pdf(Path("/usr/share/fonts/truetype/dejavu"))
    pdf.add_page()
    text = "ord " * 200 + "\nhttps://example.org/" + "x" * 300 + "\nslut"
    lines = _wrap(pdf, text, 100)
    assert all(pdf.get_string_width(line) <= 100 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")
    assert lines[-1] == "slut"
