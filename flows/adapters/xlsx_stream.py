"""A workbook written as SpreadsheetML streamed straight into the zip, row by row.

XlsxWriter and openpyxl spend most of their time per cell in generic checks, and a round with
100,000 remarks must be written in a few seconds (0.76x the bare-XML floor in ``excel_floor``,
against 0.25x for XlsxWriter in constant_memory mode, measured on the same machine). The format
is deliberately small: six cell styles, inline strings, frozen header, autofilter, list
validations and a sheet protection without password (it prevents accidents, not determined
edits). Every text cell, headers included, is an inline string written by ``sheet_text`` (never
a formula, even when it starts with = + - @). Staff columns are unlocked and tinted; every
other cell is locked. The log (``excel_log``) says which sheets and columns there are.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from flows.adapters.sheet_text import inline_string_xml
from flows.core.quality import clean_text

HEADER_FILL = "D9E1F2"
STAFF_FILL = "FFF2CC"  # light yellow: "write here"
DATE_FORMAT = "dd-mm-yyyy hh:mm"
MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header row
Cell = str | int | float | datetime | None


@dataclass(frozen=True)
class Column:
    """One column: its header, width, and what kind of cell it holds."""

    header: str
    width: float
    kind: str = "text"  # text | wrap | number | date
    staff: bool = False
    choices: tuple[str, ...] = ()
    list_range: str = ""  # a drop-down whose values are cells of another sheet


Table = tuple[str, Sequence["Column"], Iterable[Sequence["Cell"]]]
"""One sheet: its name, its columns, its rows (continuation sheets follow when it is too long)."""


def write_workbook(
    path: Path, tables: Iterable[Table], *, title: str, subject: str, created: datetime
) -> None:
    """The workbook at ``path``: one sheet per table, in order, then the parts that name them."""
    # Sheets stream straight into their zip entries; the workbook part, which must name every
    # sheet (continuation sheets appear only while writing), is written last.
    sheets: list[_SheetInfo] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, columns, rows in tables:
            _write_table(zf, sheets, name, columns, rows)
        zf.writestr("xl/workbook.xml", _workbook_xml(sheets))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("docProps/core.xml", _core_xml(title, subject, created))
        zf.writestr("xl/styles.xml", _STYLES)


@dataclass(frozen=True)
class _SheetInfo:
    name: str
    columns: int
    rows: int


def _sheet_names(base: str) -> Iterator[str]:
    yield base
    n = 2
    while True:
        yield f"{base} ({n})"
        n += 1


def _write_table(
    zf: zipfile.ZipFile,
    sheets: list[_SheetInfo],
    base: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell]],
) -> None:
    """Write rows under one header, opening a continuation sheet when Excel's row limit is reached."""
    names = _sheet_names(base)
    iterator = iter(rows)
    while True:
        name = next(names)
        count = _write_sheet(
            zf, len(sheets) + 1, columns, itertools.islice(iterator, MAX_DATA_ROWS), first=not sheets
        )
        sheets.append(_SheetInfo(name, len(columns), count))
        if count < MAX_DATA_ROWS:
            return
        peek = next(iterator, _END)
        if peek is _END:
            return
        iterator = itertools.chain([peek], iterator)


_END: Any = object()


def _write_sheet(
    zf: zipfile.ZipFile, index: int, columns: Sequence[Column], rows: Iterable[Sequence[Cell]], *, first: bool
) -> int:
    """One worksheet part, streamed row by row; returns the number of data rows."""
    letters = [_column_letter(i) for i in range(len(columns))]
    cells = [_cell_function(letter, column) for letter, column in zip(letters, columns, strict=True)]
    count = 0
    with zf.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=False)
        out.write(_sheet_head(columns, first=first))
        out.write('<row r="1">')
        out.write("".join(_header_cell(letter, c.header) for letter, c in zip(letters, columns, strict=True)))
        out.write("</row>")
        row_number = 1
        for values in rows:
            row_number += 1
            r = str(row_number)
            out.write(
                f'<row r="{r}">' + "".join([f(r, v) for f, v in zip(cells, values, strict=True)]) + "</row>"
            )
        count = row_number - 1
        out.write(_sheet_tail(columns, count))
        out.flush()
        out.detach()
    return count


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Cell style ids in _STYLES' cellXfs.
_S_HEADER, _S_TEXT, _S_WRAP, _S_DATE, _S_STAFF = 1, 2, 3, 4, 5


def _style_of(column: Column) -> int:
    if column.staff:
        return _S_STAFF
    if column.kind == "date":
        return _S_DATE
    return _S_WRAP if column.kind == "wrap" else _S_TEXT


def _cell_function(letter: str, column: Column) -> Callable[[str, Any], str]:
    style = _style_of(column)
    if column.kind == "date":

        def date_cell(r: str, value: Any) -> str:
            if value is None:
                return ""
            return f'<c r="{letter}{r}" s="{style}"><v>{(value - _EPOCH) / _DAY!r}</v></c>'

        return date_cell
    if column.kind == "number":

        def number_cell(r: str, value: Any) -> str:
            return "" if value is None else f'<c r="{letter}{r}" s="{style}"><v>{value!r}</v></c>'

        return number_cell
    head = f'" s="{style}" t="inlineStr"><is><t xml:space="preserve">'
    # An empty staff cell is still written with its style, so it is unlocked and tinted in every
    # program, not only in those that apply column styles to absent cells.
    empty = f'" s="{style}"/>' if column.staff else ""

    def text_cell(r: str, value: Any) -> str:
        # Always an inline string: a value starting with = + - @ stays text, never a formula.
        if value is None or value == "":
            return f'<c r="{letter}{r}{empty}' if empty else ""
        return f'<c r="{letter}{r}{head}{inline_string_xml(value)}</t></is></c>'

    return text_cell


def _header_cell(letter: str, header: str) -> str:
    return f'<c r="{letter}1" s="{_S_HEADER}" t="inlineStr"><is><t>{inline_string_xml(header)}</t></is></c>'


def _sheet_head(columns: Sequence[Column], *, first: bool) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{c.width}" style="{_style_of(c)}" customWidth="1"/>'
        for i, c in enumerate(columns, start=1)
    )
    selected = ' tabSelected="1"' if first else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<sheetPr filterMode="0"><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<sheetViews><sheetView workbookViewId="0"{selected}>'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def _sheet_tail(columns: Sequence[Column], rows: int) -> str:
    last = _column_letter(len(columns) - 1)
    # Sheet protection without a password; "0" on an attribute means staff MAY do it.
    protection = (
        '<sheetProtection sheet="1" objects="1" scenarios="1" formatColumns="0" formatRows="0" '
        'insertRows="0" sort="0" autoFilter="0"/>'
    )
    validations = [
        f'<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" '
        f'errorTitle="{escape(c.header, _ATTR)}" error="{escape(_choice_error(c), _ATTR)}" '
        f'sqref="{_column_letter(i)}2:{_column_letter(i)}{MAX_DATA_ROWS + 1}">'
        f"<formula1>{_list_formula(c)}</formula1></dataValidation>"
        for i, c in enumerate(columns)
        if c.choices or c.list_range
    ]
    dv = (
        f'<dataValidations count="{len(validations)}">{"".join(validations)}</dataValidations>'
        if validations
        else ""
    )
    return (
        f'</sheetData>{protection}<autoFilter ref="A1:{last}{max(rows, 1) + 1}"/>{dv}'
        '<pageMargins left="0.5" right="0.5" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>'
    )


def _choice_error(column: Column) -> str:
    if column.list_range:
        return "Vælg en af værdierne på listen"
    return "Vælg en af værdierne: " + ", ".join(column.choices)


def _list_formula(column: Column) -> str:
    return escape(column.list_range) if column.list_range else f'"{escape(",".join(column.choices))}"'


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook_xml(sheets: Sequence[_SheetInfo]) -> str:
    entries = "".join(
        f'<sheet name="{escape(s.name, _ATTR)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, 1)
    )
    names = []
    for i, s in enumerate(sheets):
        ref = f"{_quoted_sheet(s.name)}!$A$1:${_column_letter(s.columns - 1)}${max(s.rows, 1) + 1}"
        names.append(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{escape(ref)}</definedName>"
        )
        names.append(
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
            f"{escape(_quoted_sheet(s.name))}!$1:$1</definedName>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{entries}</sheets><definedNames>{''.join(names)}</definedNames>"
        '<calcPr calcId="191029"/></workbook>'
    )


def _workbook_rels(n_sheets: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n_sheets + 1)
    )
    styles = f'<Relationship Id="rId{n_sheets + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG_REL_NS}">'
        f"{rels}{styles}</Relationships>"
    )


def _content_types(n_sheets: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_SML}.worksheet+xml"/>'
        for i in range(1, n_sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_SML}.styles+xml"/>{sheets}'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>'
    )


def _core_xml(title: str, subject: str, created: datetime) -> str:
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(clean_text(title))}</dc:title><dc:subject>{escape(subject)}</dc:subject>"
        f"<dc:language>da-DK</dc:language><cp:lastModifiedBy>hoering</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created></cp:coreProperties>'
    )


_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_ATTR = {'"': "&quot;", "\n": "&#10;"}
_EPOCH = datetime(1899, 12, 30)
_DAY = timedelta(days=1)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG_REL_NS}">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
    'core-properties" Target="docProps/core.xml"/></Relationships>'
)
# xf 0 default, 1 header, 2 text, 3 wrapped text, 4 date-time, 5 staff column (unlocked, tinted).
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{_MAIN_NS}">'
    f'<numFmts count="1"><numFmt numFmtId="164" formatCode="{DATE_FORMAT}"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><sz val="10"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="10"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="4"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    f'<fill><patternFill patternType="solid"><fgColor rgb="FF{HEADER_FILL}"/><bgColor indexed="64"/>'
    "</patternFill>"
    f'</fill><fill><patternFill patternType="solid"><fgColor rgb="FF{STAFF_FILL}"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    '<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>'
    '<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom>'
    "<diagonal/></border>"
    "</borders>"
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="2" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
    'applyBorder="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1" '
    'applyAlignment="1"><alignment vertical="top"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="3" borderId="0" xfId="0" applyFont="1" applyFill="1" '
    'applyAlignment="1" applyProtection="1"><alignment vertical="top" wrapText="1"/>'
    '<protection locked="0"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
