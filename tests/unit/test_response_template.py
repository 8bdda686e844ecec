"""The Excel response template: what build_template writes and what read_template accepts."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from flows.adapters.response_template import (
    ANSWER_SHEET,
    HEADER_ROW,
    HEADERS,
    REF_SHEET,
    build_template,
    read_template,
)
from flows.core.message import TemplateRef
from flows.core.model import Remark

REF = TemplateRef(round_id="sof-partnerskab-2025", party_name='SAND "Hovedstaden" & co')
FIRST = HEADER_ROW + 1


def _template() -> Workbook:
    data = build_template(REF.round_id, "Ét SOF's strategi", REF.party_name, "24. oktober 2025 kl. 23.59")
    return openpyxl.load_workbook(io.BytesIO(data))


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _fill(wb: Workbook, rows: list[tuple[Any, Any, Any]], first: int = FIRST) -> None:
    ws = wb[ANSWER_SHEET]
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            ws.cell(row=first + offset, column=col, value=value)


def test_built_template_has_the_agreed_layout() -> None:
    """Guide sheet, answer sheet with locked facts and headers, unlocked answer rows, very hidden ref."""
    wb = _template()
    assert wb.sheetnames == ["Vejledning", ANSWER_SHEET, REF_SHEET]
    ws = wb[ANSWER_SHEET]
    assert [ws.cell(row=HEADER_ROW, column=c).value for c in (1, 2, 3)] == list(HEADERS)
    assert ws["B1"].value == "Ét SOF's strategi"
    assert ws["B2"].value == REF.party_name
    assert ws.protection.sheet
    assert ws["B2"].protection.locked
    assert not ws.cell(row=FIRST, column=2).protection.locked
    assert not ws.cell(row=FIRST + 199, column=3).protection.locked
    assert ws.cell(row=FIRST, column=2).alignment.wrap_text
    assert wb[REF_SHEET].sheet_state == "veryHidden"
    assert "hoering_round_id" in wb.defined_names
    guide = " ".join(str(c.value) for c in wb["Vejledning"]["A"] if c.value)
    assert "én bemærkning pr. række" in guide.lower()
    assert "fristen" in guide


def test_round_trip_gives_remarks_and_reference() -> None:
    """Rows filled in with openpyxl come back as remarks, with the hidden reference."""
    wb = _template()
    _fill(
        wb, [("2.1", "Vi savner fokus på frivillige.", "Tilføj et afsnit"), ("s. 4", "Godt initiativ.", None)]
    )
    result = read_template(_save(wb))
    assert result.recognised
    assert result.problem is None
    assert result.ref == REF
    assert result.remarks == [
        Remark("2.1", "Vi savner fokus på frivillige.", "Tilføj et afsnit"),
        Remark("s. 4", "Godt initiativ.", ""),
    ]


def test_empty_template_is_recognised_with_no_remarks() -> None:
    """A template returned untouched is recognised and has no remarks."""
    result = read_template(_save(_template()))
    assert result.recognised
    assert result.remarks == []


def test_blank_rows_are_skipped() -> None:
    """Blank rows between remarks, and rows with only a page number, are skipped."""
    wb = _template()
    _fill(
        wb,
        [
            ("1", "Første", None),
            (None, None, None),
            (None, None, None),
            ("7", None, None),
            (None, "Anden", None),
        ],
    )
    assert [r.text for r in read_template(_save(wb)).remarks] == ["Første", "Anden"]


def test_numbers_become_text_without_decimals() -> None:
    """A section typed as the number 3 reads as "3", and 2.5 as "2.5"."""
    wb = _template()
    _fill(wb, [(3, "Tekst", None), (2.5, 42, None)])
    remarks = read_template(_save(wb)).remarks
    assert [(r.section, r.text) for r in remarks] == [("3", "Tekst"), ("2.5", "42")]


def test_moved_columns_are_found_by_their_headings() -> None:
    """Columns in another order, shifted right and down, with close heading variants, still read."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Ark1"
    ws["A1"] = "Vores høringssvar"
    ws["C4"], ws["D4"], ws["E4"] = " BEMÆRKNINGER ", "Forslag", "Side"
    ws["C5"], ws["D5"], ws["E5"] = "Flyttet tekst", "Gør det", 12
    result = read_template(_save(wb))
    assert result.recognised
    assert result.ref is None
    assert result.remarks == [Remark("12", "Flyttet tekst", "Gør det")]


def test_extra_sheet_does_not_confuse_the_reader() -> None:
    """An extra sheet placed first does not hide the answer sheet."""
    wb = _template()
    _fill(wb, [("1", "Med ekstra ark", None)])
    extra = wb.create_sheet("Noter", 0)
    extra["A1"] = "Interne noter"
    result = read_template(_save(wb))
    assert [r.text for r in result.remarks] == ["Med ekstra ark"]


def test_merged_cells_are_read_from_their_top_left_cell() -> None:
    """A remark merged across two rows is read once."""
    wb = _template()
    ws = wb[ANSWER_SHEET]
    ws.protection.sheet = False
    _fill(wb, [("1", "Lang bemærkning", "Forslag")])
    ws.merge_cells(start_row=FIRST, start_column=2, end_row=FIRST + 1, end_column=2)
    assert read_template(_save(wb)).remarks == [Remark("1", "Lang bemærkning", "Forslag")]


def test_formula_with_cached_value_reads_the_value() -> None:
    """A formula cell reads as its cached value (the value Excel saved with it)."""
    wb = _template()
    _fill(wb, [("1", '=CONCATENATE("a","b")', None)])
    data = _save(wb)
    # openpyxl writes no cached value; add one as Excel would: <c><f>…</f><v>ab</v></c>
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                body = body.replace(b"</f><v></v>", b"</f><v>ab</v>").replace(
                    b"</f></c>", b"</f><v>ab</v></c>"
                )
                body = body.replace(f'r="B{FIRST}" '.encode(), f'r="B{FIRST}" t="str" '.encode(), 1)
            zout.writestr(info, body)
    remarks = read_template(out.getvalue()).remarks
    assert [r.text for r in remarks] == ["ab"]


def test_formula_without_cached_value_is_kept_as_text_and_flagged() -> None:
    """openpyxl saves formulas without a value: the row is kept, the formula shown, the rows named."""
    wb = _template()
    _fill(wb, [("3.2", '=CONCATENATE("Vi foreslår ","mere")', None), ("2", "Almindelig tekst", None)])
    wb[ANSWER_SHEET].cell(row=FIRST + 3, column=3, value="=1+1")  # a proposal alone, two rows further down
    result = read_template(_save(wb))
    assert result.recognised
    assert result.remarks == [
        Remark("3.2", '=CONCATENATE("Vi foreslår ","mere")', ""),
        Remark("2", "Almindelig tekst", ""),
        Remark("", "", "=1+1"),
    ]
    assert result.notice == (
        f"Skemaet indeholder formler uden beregnet værdi (rækkerne {FIRST}, {FIRST + 3}) – "
        "formlerne er vist som tekst; kontroller dem i filen"
    )


def test_formula_with_an_empty_cached_result_is_an_empty_cell() -> None:
    """Excel's =IF(…;"";…) saved with an empty string result is an empty cell, not a formula to check."""
    wb = _template()
    _fill(wb, [("1", '=IF(A1="","","x")', None), ("2", "Almindelig tekst", None)])
    data = _save(wb)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                body = body.replace(f'r="B{FIRST}"'.encode(), f'r="B{FIRST}" t="str"'.encode(), 1)
            zout.writestr(info, body)
    result = read_template(out.getvalue())
    assert [r.text for r in result.remarks] == ["Almindelig tekst"]
    assert result.notice is None


def test_unrecognisable_sheet_gives_a_danish_reason() -> None:
    """A workbook without a Bemærkning column is not recognised, and the reason says so."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B1"] = "Navn", "Beløb"
    result = read_template(_save(wb))
    assert not result.recognised
    assert result.problem == "Kolonnen 'Bemærkning' blev ikke fundet i regnearket"


def test_damaged_template_keeps_its_reference_and_explains() -> None:
    """Our template with its headings overwritten keeps the reference but is not recognised."""
    wb = _template()
    ws = wb[ANSWER_SHEET]
    ws.cell(row=HEADER_ROW, column=2, value="Tekst")
    result = read_template(_save(wb))
    assert not result.recognised
    assert result.ref == REF
    assert result.problem is not None
    assert "Bemærkning" in result.problem


def test_reference_survives_loss_of_hidden_sheet() -> None:
    """Without the hidden sheet, the workbook's named constants still give the reference."""
    wb = _template()
    del wb[REF_SHEET]
    _fill(wb, [("1", "Tekst", None)])
    assert read_template(_save(wb)).ref == REF


def test_title_mentioning_bemaerkninger_is_not_taken_as_header() -> None:
    """A title like "Bemærkninger til strategien" above the table is not the header row."""
    data = build_template("r", "Bemærkninger til strategien", "Part", "1. maj")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    _fill(wb, [("1", "Rigtig bemærkning", None)])
    assert [r.text for r in read_template(_save(wb)).remarks] == ["Rigtig bemærkning"]


def test_rows_beyond_the_bound_are_not_read() -> None:
    """Only the first 2,000 rows are read, whatever the sheet holds."""
    wb = _template()
    ws = wb[ANSWER_SHEET]
    ws.cell(row=FIRST, column=2, value="inden for")
    ws.cell(row=5_000, column=2, value="uden for")
    texts = [r.text for r in read_template(_save(wb)).remarks]
    assert texts == ["inden for"]


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_garbage_is_not_recognised_and_does_not_raise(data: bytes) -> None:
    """Bytes that are not a workbook give a reason, not an exception."""
    result = read_template(data)
    assert not result.recognised
    assert result.problem


def test_bare_reference_layout_is_accepted() -> None:
    """A hidden sheet holding just the round id in A1 and the party in A2 also gives the reference."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = ANSWER_SHEET
    ws.append(list(HEADERS))
    ws.append(["1", "Tekst", ""])
    ref = wb.create_sheet(REF_SHEET)
    ref["A1"], ref["A2"] = "r-9", "Part B"
    ref.sheet_state = "hidden"
    assert read_template(_save(wb)).ref == TemplateRef("r-9", "Part B")
