"""No formula in any workbook hoering writes: the response template mailed to parties, and the log.

A party named like a formula (``=HYPERLINK(…)``, ``@SUM(1)``, a phone number ``+45 …``, ``-foo``,
a DDE payload) is written as a string cell whose value is exactly the name: openpyxl sees data
type "s", python-calamine (what a reader gets) the text itself, and no sheet holds an ``<f>``.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from flows.adapters.excel_log import write_log
from flows.adapters.response_template import (
    ANSWER_SHEET,
    GUIDE_SHEET,
    NAME_PARTY,
    REF_SHEET,
    build_template,
    read_template,
)
from tests.factories import make_assembly, party, remark, response

HOSTILE = [
    '=HYPERLINK("http://evil","klik")',
    "@SUM(1)",
    "+45 12 34 56 78",
    "-foo",
    "=cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "=1+2 _x0041_",
]
_FORMULA_ELEMENT = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _sheet_parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/")}


def _assert_no_formula_anywhere(data: bytes) -> None:
    """Neither openpyxl nor the raw XML finds a formula in any cell of any sheet."""
    parts = _sheet_parts(data)
    assert parts
    for name, xml in parts.items():
        assert not _FORMULA_ELEMENT.search(xml), name
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)


def _calamine_cells(data: bytes, sheet: str) -> list[Any]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return [v for row in book.get_sheet_by_name(sheet).to_python(skip_empty_area=False) for v in row]


@pytest.mark.parametrize("name", HOSTILE)
def test_template_for_a_formula_named_party_holds_the_name_as_text(name: str) -> None:
    """The template mailed to the party: its name is a string on the answer sheet and the hidden sheet."""
    data = build_template("r-2025", "Strategi", name, "fredag den 24. oktober 2025 kl. 23.59")
    _assert_no_formula_anywhere(data)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb[ANSWER_SHEET]["B2"].data_type == "s"
    assert wb[REF_SHEET]["B2"].data_type == "s"
    # what Excel and every reader see: the name exactly, no apostrophe, no computed "klik"
    assert name in _calamine_cells(data, ANSWER_SHEET)
    assert name in _calamine_cells(data, REF_SHEET)
    # the named constant is a quoted string literal, not an expression
    constant = wb.defined_names[NAME_PARTY].attr_text
    assert constant == '"' + name.replace('"', '""') + '"'
    # and the reader gets the party back from it (cell text is read with its ends stripped)
    ref = read_template(data).ref
    assert ref is not None and ref.party_name == name.strip()


def test_template_title_and_guide_are_strings_too() -> None:
    """A round title that starts with "=" is text in the guide and on the answer sheet."""
    title = "=1+2 strategi"
    data = build_template("r-2025", title, "SAND", "fredag den 24. oktober 2025 kl. 23.59")
    _assert_no_formula_anywhere(data)
    assert title in _calamine_cells(data, ANSWER_SHEET)
    assert f"Høringsskema: {title}" in _calamine_cells(data, GUIDE_SHEET)


def test_log_with_formula_named_parties_holds_only_strings(tmp_path: Path) -> None:
    """Every text cell of the log (headers, names, subjects, texts, review rows) is a string cell."""
    a = make_assembly(1)
    for number, name in enumerate(HOSTILE, start=2):
        r = response(number, name, name)
        a.responses.append(r)
        a.remarks.append(remark(r))
        a.parties.append(party(name))
    path = tmp_path / "log.xlsx"
    write_log(a, path)
    data = path.read_bytes()
    _assert_no_formula_anywhere(data)
    for sheet in ("Høringsparter", "Høringssvar", "Bemærkninger"):
        cells = _calamine_cells(data, sheet)
        for name in HOSTILE:
            assert name in cells, (sheet, name)
