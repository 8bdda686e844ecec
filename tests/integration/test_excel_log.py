"""The høringslog workbook: contract layout, Excel features, safety, limits and the staff-edit round trip."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from flows.adapters import excel_log, xlsx_stream
from flows.adapters.excel_edits import read_staff_edits
from flows.adapters.excel_log import write_log
from flows.adapters.sheet_text import MAX_CELL, TRUNCATED
from flows.core.assembly import Assembly, StaffNote
from flows.core.errors import LogEditConflictError
from flows.core.model import PartyStatus
from tests.factories import make_assembly, party, remark, response

CONTRACT = {
    "Høringsparter": ["Høringspart", "E-mail", "Inviteret", "Status", "Antal svar", "Seneste svar"],
    "Høringssvar": ["Nr.", "Høringspart", "Afsender", "Modtaget", "Kanal", "Rettidig", "Emne", "Tekst", "Bilag"],
    "Bemærkninger": [
        "Nr.", "Høringspart", "Afsnit", "Bemærkning", "Forslag til ændring",
        "Forvaltningens bemærkning", "Ændring i udkastet", "Giver anledning til ændring",
    ],
    "Til gennemsyn": ["Reference", "Modtaget", "Afsender", "Emne", "Årsag", "Beslutning", "Høringspart"],
}  # fmt: skip
NASTY = ["=1+2", "+45 12 34 56 78", "-rm -rf", "@SUM(A1)", "\t=cmd|' /C calc'!A0", '=HYPERLINK("http://x")']


def _write(tmp_path: Path, assembly: Assembly | None = None) -> tuple[Assembly, Path]:
    assembly = assembly or make_assembly()
    path = tmp_path / f"{assembly.round.id}-hoeringslog.xlsx"
    write_log(assembly, path)
    return assembly, path


def _known(assembly: Assembly) -> tuple[set[str], set[str]]:
    return {m.number for m in assembly.remarks}, {v.reference for v in assembly.review}


def test_sheets_and_columns_follow_the_contract(tmp_path: Path) -> None:
    """Sheets and their leading columns are exactly the contract's, in its order."""
    _, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [*CONTRACT, "Opbevaring"]  # the contract's, then the deletion date
    for name, headers in CONTRACT.items():
        row = [c.value for c in wb[name][1]]
        assert row[: len(headers)] == headers


def test_parties_are_listed_alphabetically_with_danish_letters_last(tmp_path: Path) -> None:
    """Every invited party appears once, sorted with æ, ø, å after z."""
    a = make_assembly(0, silent=0)
    a.parties = [
        party(n, PartyStatus.NOT_ANSWERED, 0) for n in ["Åby", "Zoo", "Ærø", "Østerbro", "Abel", "Émile"]
    ]
    _, path = _write(tmp_path, a)
    ws = openpyxl.load_workbook(path)["Høringsparter"]
    assert [r[0] for r in ws.iter_rows(min_row=2, values_only=True)] == [
        "Abel", "Émile", "Zoo", "Ærø", "Østerbro", "Åby",
    ]  # fmt: skip
    assert {r[3] for r in ws.iter_rows(min_row=2, values_only=True)} == {"Ikke svaret"}


def test_times_are_real_excel_datetimes_in_copenhagen_time(tmp_path: Path) -> None:
    """Modtaget, Inviteret and Seneste svar are date cells holding Copenhagen wall-clock time."""
    a, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    first = a.responses[0].received_at  # 2025-10-16 01:00 +02:00
    cell = wb["Høringssvar"]["D2"]
    assert cell.is_date and cell.value == datetime(2025, 10, 16, 1, 0)
    assert cell.value == first.replace(tzinfo=None)
    assert cell.number_format == "dd-mm-yyyy hh:mm"
    assert wb["Høringsparter"]["C2"].is_date and wb["Høringsparter"]["F2"].is_date
    assert wb["Til gennemsyn"]["B2"].is_date


def test_header_frozen_autofilter_widths_and_wrapping(tmp_path: Path) -> None:
    """Each sheet freezes its header row, has an autofilter over the table, set widths and wrapped text."""
    _, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")
        assert ws.column_dimensions["A"].width > 5
    assert wb["Høringssvar"]["H2"].alignment.wrap_text
    assert wb["Bemærkninger"]["D2"].alignment.wrap_text


def test_drop_downs_for_status_rettidig_change_and_decision(tmp_path: Path) -> None:
    """List validations cover Status, Rettidig, Giver anledning til ændring and Beslutning."""
    _, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)

    def lists(sheet: str) -> dict[str, str]:
        ws = wb[sheet]
        return {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}

    assert (
        lists("Høringsparter")["D2"]
        == '"Svar modtaget,Ingen bemærkninger,Ikke svaret,Invitation ikke leveret"'
    )
    assert lists("Høringssvar")["F2"] == '"Ja,Nej"'
    assert lists("Bemærkninger")["H2"] == '"Ja,Nej,Delvist"'
    assert lists("Til gennemsyn")["F2"] == '"Medtag,Afvis"'


def test_staff_columns_unlocked_and_tinted_the_rest_protected_without_password(tmp_path: Path) -> None:
    """Sheets are protected with no password; only staff columns are unlocked and filled."""
    _, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    for ws in wb:
        assert ws.protection.sheet and not ws.protection.password
    ws = wb["Bemærkninger"]
    for col in "FGH":
        assert ws[f"{col}2"].protection.locked is False
        assert ws[f"{col}2"].fill.fgColor.rgb == "FFFFF2CC"
    assert ws["A2"].protection.locked and ws["D2"].protection.locked
    assert wb["Til gennemsyn"]["F2"].protection.locked is False


@pytest.mark.parametrize("text", NASTY)
def test_formula_like_text_stays_a_plain_string(tmp_path: Path, text: str) -> None:
    """Text starting with = + - @ or a tab is stored as a string equal to the text, never as a formula."""
    a = make_assembly(1)
    r = response(2, text, text)
    a.responses.append(r)
    a.remarks.append(remark(r))
    _, path = _write(tmp_path, a)
    ws = openpyxl.load_workbook(path)["Høringssvar"]
    assert ws["B3"].data_type == "s" and ws["B3"].value == text
    assert ws["H3"].value == text
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in zf.read(name).decode() and "<f " not in zf.read(name).decode()


def test_illegal_xml_characters_are_stripped_and_excel_escapes_kept_literal(tmp_path: Path) -> None:
    """Control characters vanish; a literal "_x0041_" and CR/LF survive as typed (as Excel reads them)."""
    a = make_assembly(1)
    r = response(2, "Ulovlig\x00\x0b tegn", "a\x01b\x1fc _x0041_ d\r\ne")
    a.responses.append(r)
    _, path = _write(tmp_path, a)
    ws = openpyxl.load_workbook(path)["Høringssvar"]
    assert ws["B3"].value == "Ulovlig tegn"
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Høringssvar").to_python()
    assert rows[2][7] == "abc _x0041_ d\r\ne"


def test_long_text_is_cut_at_the_excel_limit_with_a_marker(tmp_path: Path) -> None:
    """A 40,000-character text becomes exactly 32,767 characters ending with the marker."""
    a = make_assembly(1)
    a.responses.append(response(2, "Lang", "x" * 40_000))
    _, path = _write(tmp_path, a)
    value = openpyxl.load_workbook(path)["Høringssvar"]["H3"].value
    assert len(value) == MAX_CELL and value.endswith(TRUNCATED)


def test_more_rows_than_excel_holds_continue_on_a_numbered_sheet(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the per-sheet row limit the remarks continue on "Bemærkninger (2)" with the same header."""
    monkeypatch.setattr(xlsx_stream, "MAX_DATA_ROWS", 3)
    a = make_assembly(7)
    _, path = _write(tmp_path, a)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Høringsparter", "Høringsparter (2)", "Høringsparter (3)", "Høringssvar", "Høringssvar (2)",
        "Høringssvar (3)", "Bemærkninger", "Bemærkninger (2)", "Bemærkninger (3)", "Til gennemsyn",
        "Opbevaring",
    ]  # fmt: skip
    assert [c.value for c in wb["Bemærkninger (3)"][1]] == [c.value for c in wb["Bemærkninger"][1]]
    numbers = [
        r[0] for name in ("Bemærkninger", "Bemærkninger (2)", "Bemærkninger (3)")
        for r in wb[name].iter_rows(min_row=2, values_only=True)
    ]  # fmt: skip
    assert numbers == [m.number for m in a.remarks]
    edits = read_staff_edits(path, *_known(a))
    assert edits.notes == {}


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The log appears under its final name only; no temporary file is left behind."""
    _, path = _write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_absent_log_gives_empty_edits(tmp_path: Path) -> None:
    """Without a log there is nothing to carry over."""
    edits = read_staff_edits(tmp_path / "none.xlsx", {"1.1"}, set())
    assert edits.notes == {} and edits.decisions == {}


def test_prefilled_notes_round_trip(tmp_path: Path) -> None:
    """Notes in the Assembly are written into the staff columns and read back unchanged."""
    notes = {"2.1": StaffNote(reply="Tilrettet.", change="Side 7 ændret.", gives_change="Ja")}
    a, path = _write(tmp_path, make_assembly(notes=notes))
    assert read_staff_edits(path, *_known(a)).notes == notes


def _edit_remarks(path: Path, edit: object) -> None:
    wb = openpyxl.load_workbook(path)
    edit(wb["Bemærkninger"])  # type: ignore[operator]
    wb.save(path)


def test_staff_edits_survive_reordered_and_inserted_rows_and_columns(tmp_path: Path) -> None:
    """Replies are found by header name and Nr. after staff sort rows, insert rows and move columns."""
    a, path = _write(tmp_path)

    def edit(ws: Any) -> None:
        ws["F2"], ws["G2"], ws["H2"] = "Svar til SAND", "Side 7", "ja"
        ws["F5"] = "Svar til Red Barnet"
        ws.move_range("A4:J4", rows=10)  # a row moved far down
        ws.insert_rows(2, 2)  # blank rows inserted at the top
        ws["D3"] = "en note staff skrev uden for tabellen"  # not a staff column: ignored
        ws.insert_cols(1)  # a column inserted before Nr.
        ws["A1"] = "Egen kolonne"

    _edit_remarks(path, edit)
    edits = read_staff_edits(path, *_known(a))
    assert edits.notes == {
        "1.1": StaffNote(reply="Svar til SAND", change="Side 7", gives_change="Ja"),
        "4.1": StaffNote(reply="Svar til Red Barnet"),
    }
    a.notes = edits.notes
    write_log(a, path)
    assert read_staff_edits(path, *_known(a)).notes == edits.notes


def test_review_decisions_are_read_by_reference(tmp_path: Path) -> None:
    """Medtag/Afvis with the party name come back keyed by the item's reference."""
    a, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    wb["Til gennemsyn"]["F2"], wb["Til gennemsyn"]["G2"] = "medtag", "WeShelter"
    wb.save(path)
    assert read_staff_edits(path, *_known(a)).decisions == {"GS-0001": ("Medtag", "WeShelter")}


def _ref(ws: Any, row: int, value: str | None) -> None:
    """Set the row's Reference: the remark's stable key, by which staff edits are matched."""
    column = [c.value for c in ws[1]].index("Reference") + 1
    ws.cell(row, column).value = value


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda ws: ws.cell(1, 1, "Nummer"), "mangler kolonnen »Nr.«"),
        (
            lambda ws: (_ref(ws, 3, "1.1"), ws.cell(2, 6, "Ét svar"), ws.cell(3, 6, "Et andet svar")),
            "flere gange med forskellig tekst",
        ),
        (lambda ws: (_ref(ws, 2, "99.9"), ws.cell(2, 6, "Svar")), "ikke en kendt bemærkning"),
        (lambda ws: (_ref(ws, 2, None), ws.cell(2, 6, "Svar")), "uden Reference"),
    ],
    ids=["header-renamed", "duplicate-nr", "unknown-nr", "nr-deleted"],
)
def test_unmatchable_edits_are_refused(tmp_path: Path, edit: object, problem: str) -> None:
    """A log changed so typed replies cannot be matched raises LogEditConflictError naming the problem."""
    a, path = _write(tmp_path)
    _edit_remarks(path, edit)
    with pytest.raises(LogEditConflictError) as caught:
        read_staff_edits(path, *_known(a))
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_duplicate_rows_with_the_same_reply_are_accepted(tmp_path: Path) -> None:
    """A row copied with identical staff text is not a conflict."""
    a, path = _write(tmp_path)
    _edit_remarks(path, lambda ws: (_ref(ws, 3, "1.1"), ws.cell(2, 6, "Samme"), ws.cell(3, 6, "Samme")))
    assert read_staff_edits(path, *_known(a)).notes == {"1.1": StaffNote(reply="Samme")}


def test_missing_remarks_sheet_is_refused(tmp_path: Path) -> None:
    """Deleting the Bemærkninger sheet is a conflict, not an empty set of replies."""
    a, path = _write(tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb["Bemærkninger"]
    wb.save(path)
    with pytest.raises(LogEditConflictError, match="Bemærkninger"):
        read_staff_edits(path, *_known(a))


def test_speed_floor_writer_produces_a_readable_workbook(tmp_path: Path) -> None:
    """The benchmark floor writes the same cells as a workbook openpyxl can open."""
    from flows.adapters.excel_floor import write_floor

    a = make_assembly()
    write_floor(excel_log.log_rows(a), tmp_path / "floor.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "floor.xlsx").active
    assert ws is not None and ws["A1"].value == "Høringspart"
    assert re.match(r"\d", str(ws.max_row))


def test_hundred_thousand_remarks_are_all_written(tmp_path: Path) -> None:
    """100,000 remarks all reach the log's Bemærkninger sheet (speed against the floor: the bench)."""
    from python_calamine import CalamineWorkbook

    from tests.factories import make_big_assembly

    a = make_big_assembly(100_000)
    write_log(a, tmp_path / "big.xlsx")
    rows = (
        CalamineWorkbook.from_path(str(tmp_path / "big.xlsx")).get_sheet_by_name("Bemærkninger").to_python()
    )
    assert len(rows) - 1 == len(a.remarks) == 100_000
