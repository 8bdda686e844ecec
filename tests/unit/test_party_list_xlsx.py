"""Party lists from Excel: `parties = "parter.xlsx"` reads the first sheet the way a case worker
keeps it (merged title rows, Danish headings, blank rows), names sheet rows in its errors, and
treats the workbook as hostile."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from flows.adapters.round_file import load_round_file
from flows.core.errors import RoundFileError
from tests.conftest import corpora_dir
from tests.unit.test_round_file import GOOD

ROUND = GOOD.format(parties='parties = "parter.xlsx"')


def save(tmp_path: Path, book: openpyxl.Workbook, name: str = "parter.xlsx") -> Path:
    (tmp_path / "udkast.pdf").write_bytes(b"%PDF-1.4")
    book.save(tmp_path / name)
    path = tmp_path / "runde.toml"
    path.write_text(ROUND.replace("parter.xlsx", name), encoding="utf-8")
    return path


def kommune_list() -> openpyxl.Workbook:
    """A list as a municipality keeps it: title and date merged across the top, header on row 4."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Høringsparter"
    sheet["A1"] = "Høringsparter – Ét SOF's strategi"
    sheet.merge_cells("A1:E1")
    sheet["A2"] = "Opdateret 1. oktober 2025"
    sheet.merge_cells("A2:E2")
    sheet.append([])  # row 3 empty
    sheet.append(["Nr.", "Høringspart", "Kontakt (navn)", "E-mail", "Bemærkning"])  # row 4
    sheet.append([1, "Ældrerådet", "Ole Olsen", "aeldre@kk.example", "fast part"])  # row 5
    sheet.append([])  # row 6 blank, skipped
    sheet.append([2, "Røde Kors", "", "a@roedekors.example; b@roedekors.example", None])  # row 7
    sheet.append([3, 2025, None, "tal@kk.example", None])  # row 8: a number as the name
    return book


def test_merged_title_rows_danish_headings_and_several_addresses(tmp_path: Path) -> None:
    """The header row is found under merged titles; ';' splits addresses; blank rows are skipped."""
    spec = load_round_file(save(tmp_path, kommune_list()))

    assert [(p.name, p.emails) for p in spec.parties] == [
        ("Ældrerådet", ("aeldre@kk.example",)),
        ("Røde Kors", ("a@roedekors.example", "b@roedekors.example")),
        ("2025", ("tal@kk.example",)),
    ]


def test_an_error_names_the_sheet_row(tmp_path: Path) -> None:
    """A bad address on sheet row 7 is reported as "række 7", as a CSV error names its line."""
    book = kommune_list()
    sheet = book.active
    assert sheet is not None
    sheet["D7"] = "ikke-en-adresse"

    with pytest.raises(RoundFileError) as caught:
        load_round_file(save(tmp_path, book))

    assert "parter.xlsx række 7: ugyldig e-mailadresse 'ikke-en-adresse' for 'Røde Kors'" in str(caught.value)


def test_english_headings_domains_and_person_columns(tmp_path: Path) -> None:
    """English headings, a domains column and a person column (ja/nej) are read."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "email", "domains", "person"])
    sheet.append(["Red Cross", "info@redcross.example", "redcross.example", "nej"])
    sheet.append(["Jens Hansen", "jens@post.example", None, "ja"])
    sheet.append(["Frivillig Forening", "f@forening.example", None, True])  # a boolean cell

    spec = load_round_file(save(tmp_path, book))

    assert [(p.name, p.domains, p.person) for p in spec.parties] == [
        ("Red Cross", ("redcross.example",), False),
        ("Jens Hansen", (), True),
        ("Frivillig Forening", (), True),
    ]


def test_a_formula_is_never_evaluated_and_a_missing_name_is_reported(tmp_path: Path) -> None:
    """A formula cell gives its cached value only; one without a cached value is a missing name."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Navn", "E-mail"])
    sheet.append(['=HYPERLINK("http://evil.example","Klik")', "f@x.example"])  # row 2, never computed

    with pytest.raises(RoundFileError) as caught:
        load_round_file(save(tmp_path, book))

    assert "parter.xlsx række 2: 'name' mangler" in str(caught.value)


def test_no_header_row_is_refused_naming_what_was_found(tmp_path: Path) -> None:
    """A sheet without a name and an e-mail heading is refused, showing the first row's headings."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Organisation", "Adresse"])
    sheet.append(["A", "Vej 1"])

    with pytest.raises(RoundFileError) as caught:
        load_round_file(save(tmp_path, book))

    assert "parter.xlsx række 1: kolonnerne 'name' og 'email'" in str(caught.value)
    assert "'Organisation'" in str(caught.value)


def test_the_first_visible_sheet_is_read(tmp_path: Path) -> None:
    """A hidden first sheet (lookup data) is passed over; the first visible sheet holds the list."""
    book = openpyxl.Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.append(["Navn", "E-mail"])
    hidden.append(["Skjult", "skjult@x.example"])
    hidden.sheet_state = "hidden"
    shown = book.create_sheet("Parter")
    shown.append(["Navn", "E-mail"])
    shown.append(["Synlig", "synlig@x.example"])

    spec = load_round_file(save(tmp_path, book))

    assert [p.name for p in spec.parties] == ["Synlig"]


def rewrite(data: bytes, part: str, edit: bytes) -> bytes:
    """The workbook with one part replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit if info.filename == part else zin.read(info))
    return out.getvalue()


def small_list_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Navn", "E-mail"])
    sheet.append(["A", "a@x.example"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def refused(tmp_path: Path, data: bytes) -> str:
    (tmp_path / "udkast.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "parter.xlsx").write_bytes(data)
    (tmp_path / "runde.toml").write_text(ROUND, encoding="utf-8")
    with pytest.raises(RoundFileError) as caught:
        load_round_file(tmp_path / "runde.toml")
    return str(caught.value)


def test_a_zip_bomb_is_refused_before_any_reader_opens_it(tmp_path: Path) -> None:
    """A sheet that inflates to 300 MB is refused from the central directory (the attachments guard)."""
    data = small_list_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    head, tail = sheet.split(b"<sheetData>", 1)
    bomb = head + b" " * (300 * 1024 * 1024) + b"<sheetData>" + tail

    message = refused(tmp_path, rewrite(data, "xl/worksheets/sheet1.xml", bomb))

    assert "parter.xlsx: filen er afvist" in message
    assert "zip-bombe" in message


def test_a_far_flung_cell_is_refused_not_handed_to_calamine(tmp_path: Path) -> None:
    """A cell at XFD1048576 would make calamine allocate the whole sheet; the list is refused."""
    data = small_list_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
    sheet = sheet.replace(b"</row></sheetData>", b"</row>" + far + b"</sheetData>")

    assert "for stort til en partsliste" in refused(
        tmp_path, rewrite(data, "xl/worksheets/sheet1.xml", sheet)
    )


def test_a_dtd_and_a_file_that_is_not_a_workbook_are_refused(tmp_path: Path) -> None:
    """An XML entity declaration (billion laughs) and a non-zip named .xlsx give one clear line each."""
    data = small_list_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    laughs = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + body

    assert "DTD" in refused(tmp_path, rewrite(data, "xl/worksheets/sheet1.xml", laughs))
    assert "gyldigt zip-arkiv" in refused(tmp_path, b"name;email\nA;a@x.example\n")


def test_too_many_rows_are_refused(tmp_path: Path) -> None:
    """A sheet with more than 50,000 rows is refused rather than read in part."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["Navn", "E-mail"])
    for n in range(50_001):
        sheet.append([f"P{n}", f"p{n}@x.example"])

    with pytest.raises(RoundFileError) as caught:
        load_round_file(save(tmp_path, book))

    assert "mere end 50000 rækker" in str(caught.value)


@pytest.mark.corpora
def test_real_world_workbooks_give_parties_or_one_clear_error(tmp_path: Path) -> None:
    """Every .xlsx/.xlsm of calamine's test corpus (odd producers, rich text, merged cells,
    protected, broken) as a party list ends in parties or a RoundFileError, never a crash."""
    corpus = corpora_dir("spreadsheets", "calamine")
    books = sorted(p for p in corpus.iterdir() if p.suffix in (".xlsx", ".xlsm"))
    assert books, f"{corpus} holds no .xlsx files"
    outcomes: dict[str, list[str]] = {}
    for book in books:
        folder = tmp_path / book.stem
        folder.mkdir()
        (folder / "udkast.pdf").write_bytes(b"%PDF-1.4")
        (folder / f"parter{book.suffix}").write_bytes(book.read_bytes())
        (folder / "runde.toml").write_text(ROUND.replace(".xlsx", book.suffix), encoding="utf-8")
        try:
            outcomes[book.name] = [f"{len(load_round_file(folder / 'runde.toml').parties)} parter"]
        except RoundFileError as exc:
            outcomes[book.name] = exc.problems
    assert len(outcomes) == len(books)
    assert all(problems and all("\n" not in p for p in problems) for problems in outcomes.values())
    # The password-protected workbook is named as such, not as a crash.
    assert "adgangskode" in outcomes["pass_protected.xlsx"][0]


def test_a_list_of_bad_rows_gives_one_readable_line(tmp_path: Path) -> None:
    """Thousands of bad rows and a megabyte cell end in one line: 25 problems, a count, cut values."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Navn", "E-mail"])
    sheet.append(["Kæmpe", "x" * 1_000_000])
    for n in range(3_000):
        sheet.append([f"P{n}", "ikke-en-adresse"])

    with pytest.raises(RoundFileError) as caught:
        load_round_file(save(tmp_path, book))

    assert len(caught.value.problems) == 26
    assert caught.value.problems[-1] == "… og 2976 problemer mere"
    assert len(str(caught.value)) < 5_000
