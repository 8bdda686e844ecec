"""The combined PDF of all responses: front page, contents, every response, with and without DejaVu;
in volumes when a round has more responses than one volume holds."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from flows.adapters.pdf_bundle import bundle_files, remove_bundle, write_bundle
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


def _pages(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def test_a_round_above_one_volume_is_written_in_volumes_with_their_ranges(tmp_path: Path) -> None:
    """Seven responses, three a volume: three whole PDFs, each with its part and numbers in front."""
    a = make_assembly(6, late=1)
    a.responses.reverse()  # the volumes follow receipt, not the order the lines come in
    path = tmp_path / f"{a.round.id}-samlede-hoeringssvar.pdf"

    written = write_bundle(a, path, per_volume=3)

    names = [f"{a.round.id}-samlede-hoeringssvar-del-0{k}.pdf" for k in (1, 2, 3)]
    assert [p.name for p in written] == names
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # and no single file beside them
    held = {1: (1, 2, 3), 2: (4, 5, 6), 3: (7,)}
    fronts = {
        1: "Del 1 af 3: høringssvar nr. 1–3",
        2: "Del 2 af 3: høringssvar nr. 4–6",
        3: "Del 3 af 3: høringssvar nr. 7",
    }
    for part, volume in enumerate(written, start=1):
        pages = _pages(volume)
        assert fronts[part] in pages[0]
        # the round's totals, not the volume's, on every front page
        assert "Rettidige høringssvar: seks skriftlige høringssvar (6)" in pages[0]
        assert "Modtaget efter fristen: 1" in pages[0]
        contents, body = pages[1], "\n".join(pages[2:])
        assert "Indhold" in contents
        for n in range(1, 8):
            shown = f"{n}. " in body
            assert shown == (n in held[part]), (part, n)
            assert (f"{n}. " in contents) == (n in held[part]), (part, n)
        title = PdfReader(str(volume)).metadata.title
        assert title is not None and title.endswith(f", del {part} af 3")


def test_up_to_one_volume_the_bundle_is_the_one_file_as_before(tmp_path: Path) -> None:
    a = make_assembly(3)
    path = tmp_path / f"{a.round.id}-samlede-hoeringssvar.pdf"

    assert write_bundle(a, path, per_volume=3) == (path,)

    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    front = _pages(path)[0]
    assert "Samlede høringssvar" in front and "Del " not in front


def test_files_of_an_earlier_assemble_are_removed_so_volumes_never_mix(tmp_path: Path) -> None:
    a = make_assembly(7)
    path = tmp_path / f"{a.round.id}-samlede-hoeringssvar.pdf"
    public = tmp_path / f"{a.round.id}-samlede-hoeringssvar-offentlig-del-01.pdf"
    public.write_bytes(b"the public bundle's volume")

    write_bundle(a, path, per_volume=2)  # four volumes
    assert bundle_files(path) == tuple(tmp_path / f"{path.stem}-del-0{k}.pdf" for k in (1, 2, 3, 4))

    assert write_bundle(a, path, per_volume=3) == bundle_files(path)  # three now: the fourth goes
    assert [p.name[-10:] for p in bundle_files(path)] == ["del-01.pdf", "del-02.pdf", "del-03.pdf"]

    assert write_bundle(a, path) == (path,) == bundle_files(path)  # one file: every volume goes

    write_bundle(a, path, per_volume=4)  # volumes again: the one file goes
    assert not path.exists() and len(bundle_files(path)) == 2
    assert public.read_bytes() == b"the public bundle's volume"  # another bundle's, left alone

    remove_bundle(path)
    assert bundle_files(path) == () and [p.name for p in tmp_path.iterdir()] == [public.name]
