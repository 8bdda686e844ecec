"""The høringslog: an Excel workbook written from an Assembly, and the staff edits read back from it.

Written as SpreadsheetML streamed straight into the zip, row by row: XlsxWriter and openpyxl
spend most of their time per cell in generic checks, and a round with 100,000 remarks must be
written in a few seconds (0.76x the bare-XML floor in ``excel_floor``, against 0.25x for
XlsxWriter in constant_memory mode, measured on the same machine). The format is deliberately
small: six cell styles, inline strings, frozen header, autofilter, list validations and a sheet
protection without password (it prevents accidents, not determined edits).

Every text cell, headers included, is an inline string written by ``sheet_text`` (never a
formula, even when it starts with = + - @), cleaned as everything shown is and cut at Excel's
32,767-character limit with a marker.
Staff columns are unlocked and tinted; every other cell is locked.

Reading back uses python-calamine and finds columns by their header text, because staff sort,
insert and move rows and columns.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from python_calamine import CalamineWorkbook

from flows.adapters.excel_sections import (
    PLACED_BY,
    REFERENCE,
    SECTION,
    SECTION_HEADERS,
    SECTIONS_SHEET,
    choices_range,
    section_rows,
)
from flows.adapters.files import write_atomically
from flows.adapters.sheet_text import inline_string_xml
from flows.core.assembly import (
    Assembly,
    PartyLine,
    RemarkLine,
    ResponseLine,
    ReviewLine,
    StaffEdits,
    StaffNote,
)
from flows.core.danish import danish_key, local
from flows.core.errors import LogEditConflictError
from flows.core.model import PartyStatus, Round
from flows.core.numbering import stored_remark_number
from flows.core.quality import clean_text
from flows.core.retention import deletion_date, deletion_text
from flows.core.sections import choosable

MAX_DATA_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header row
DATE_FORMAT = "dd-mm-yyyy hh:mm"
STAFF_FILL = "FFF2CC"  # light yellow: "write here"
HEADER_FILL = "D9E1F2"

PARTIES, RESPONSES, REMARKS, REVIEW = "Høringsparter", "Høringssvar", "Bemærkninger", "Til gennemsyn"
NR, REPLY, CHANGE, GIVES_CHANGE = (
    "Nr.",
    "Forvaltningens bemærkning",
    "Ændring i udkastet",
    "Giver anledning til ændring",
)
DECISION, PARTY = "Beslutning", "Høringspart"
WHOLE_MESSAGE = "Hele beskeden"  # the full body beside the trimmed Tekst: nothing lost when a trim is wrong
YES_NO = ["Ja", "Nej"]
GIVES_CHANGE_VALUES = ["Ja", "Nej", "Delvist"]
DECISIONS = ["Medtag", "Afvis"]

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


PARTY_COLUMNS = (
    Column(PARTY, 34, "wrap"),
    Column("E-mail", 34, "wrap"),
    Column("Inviteret", 17, "date"),
    Column("Status", 24, choices=tuple(PartyStatus)),
    Column("Antal svar", 11, "number"),
    Column("Seneste svar", 17, "date"),
)
RESPONSE_COLUMNS = (
    Column(NR, 7, "number"),
    Column(PARTY, 30, "wrap"),
    Column("Afsender", 30, "wrap"),
    Column("Modtaget", 17, "date"),
    Column("Kanal", 13),
    Column("Rettidig", 10, choices=tuple(YES_NO)),
    Column("Emne", 34, "wrap"),
    Column("Tekst", 80, "wrap"),
    Column("Bilag", 30, "wrap"),
    Column(REFERENCE, 22),
    Column("Kampagne", 18, "wrap"),
    Column("Ingen bemærkninger", 12),
    Column("SHA-256", 66),
    Column(WHOLE_MESSAGE, 80, "wrap"),
)
REMARK_COLUMNS = (
    Column(NR, 8),
    Column(PARTY, 28, "wrap"),
    Column("Afsnit", 18, "wrap"),
    Column("Bemærkning", 70, "wrap"),
    Column("Forslag til ændring", 40, "wrap"),
    Column(REPLY, 50, "wrap", staff=True),
    Column(CHANGE, 40, "wrap", staff=True),
    Column(GIVES_CHANGE, 14, staff=True, choices=tuple(GIVES_CHANGE_VALUES)),
    Column("Svar nr.", 9, "number"),
    Column("Rettidig", 10, choices=tuple(YES_NO)),
    Column(REFERENCE, 22),  # the remark's stable key: staff edits are matched by it, not by Nr.
    Column(PLACED_BY, 34, "wrap"),
)
SECTION_COLUMNS = tuple(
    Column(header, width, kind)
    for header, width, kind in zip(
        SECTION_HEADERS,
        (40, 8, 40, 8, 8, 24),
        ("wrap", "text", "wrap", "number", "number", "wrap"),
        strict=True,
    )
)
REVIEW_COLUMNS = (
    Column(REFERENCE, 22),
    Column("Modtaget", 17, "date"),
    Column("Afsender", 30, "wrap"),
    Column("Emne", 34, "wrap"),
    Column("Årsag", 40, "wrap"),
    Column(DECISION, 13, staff=True, choices=tuple(DECISIONS)),
    Column(PARTY, 30, "wrap", staff=True),
)

RETENTION = "Opbevaring"  # when the round's personal data is deleted (flows/core/retention.py)
RETENTION_COLUMNS = (
    Column("Lukket", 17, "date"),
    Column("Opbevaringsperiode", 20),
    Column("Slettes", 17, "date"),
    Column("Sletning", 70, "wrap"),
)


def retention_row(rnd: Round) -> tuple[Cell, ...]:
    deleted = deletion_date(rnd.closed_at, rnd.retention)
    text = deletion_text(rnd.closed_at, rnd.retention)
    return (_excel_time(rnd.closed_at), rnd.retention, _excel_time(deleted), text)


# --------------------------------------------------------------------------------------- writing


def write_log(
    assembly: Assembly,
    path: Path,
    *,
    extra: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Cell]]]] = (),
) -> None:
    """Write the log to ``path`` atomically: a temporary file in the same folder, then a rename.

    ``extra`` sheets (``Offentliggørelse``) follow the contract's four, written the same way."""
    write_atomically(path, lambda tmp: _write_workbook(assembly, tmp, extra))


def _tables(assembly: Assembly) -> list[tuple[str, Sequence[Column], Iterable[Sequence[Cell]]]]:
    """Each sheet's name, columns and rows, in the contract's order."""
    notes = assembly.notes
    remark_columns: tuple[Column, ...] = REMARK_COLUMNS
    sections = choosable(assembly.sections)
    if sections:  # staff choose the section from the draft's own (excel_sections)
        pick = Column(SECTION, 22, "wrap", staff=True, list_range=choices_range(assembly.sections))
        remark_columns = tuple(pick if c.header == SECTION else c for c in REMARK_COLUMNS)
    tables: list[tuple[str, Sequence[Column], Iterable[Sequence[Cell]]]] = [
        (PARTIES, PARTY_COLUMNS, map(_party_row, _sorted_parties(assembly.parties))),
        (RESPONSES, RESPONSE_COLUMNS, map(_response_row, assembly.responses)),
        (REMARKS, remark_columns, (_remark_row(m, notes) for m in assembly.remarks)),
        (REVIEW, REVIEW_COLUMNS, map(_review_row, assembly.review)),
        (RETENTION, RETENTION_COLUMNS, [retention_row(assembly.round)]),
    ]
    if sections:
        tables.append((SECTIONS_SHEET, SECTION_COLUMNS, section_rows(assembly.sections)))
    return tables


def log_rows(assembly: Assembly) -> Iterator[Sequence[Cell]]:
    """Every cell of the log (headers included) as plain rows: the input of the speed floor."""
    for _, columns, rows in _tables(assembly):
        yield [c.header for c in columns]
        yield from rows


def _write_workbook(
    assembly: Assembly,
    path: Path,
    extra: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Cell]]]] = (),
) -> None:
    # Sheets stream straight into their zip entries; the workbook part, which must name every
    # sheet (continuation sheets appear only while writing), is written last.
    sheets: list[_SheetInfo] = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, columns, rows in [*_tables(assembly), *extra]:
            _write_table(zf, sheets, name, columns, rows)
        zf.writestr("xl/workbook.xml", _workbook_xml(sheets))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("docProps/core.xml", _core_xml(assembly))
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


def _core_xml(assembly: Assembly) -> str:
    created = assembly.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    title = escape(clean_text(f"Høringslog – {assembly.round.title}"))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{title}</dc:title><dc:subject>{escape(assembly.round.id)}</dc:subject>"
        f"<dc:language>da-DK</dc:language><cp:lastModifiedBy>hoering</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created></cp:coreProperties>'
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


def _excel_time(moment: datetime | None) -> datetime | None:
    # Excel has no time zones: staff read Copenhagen wall-clock time.
    return None if moment is None else local(moment).replace(tzinfo=None)


def _sorted_parties(parties: Iterable[PartyLine]) -> list[PartyLine]:
    return sorted(parties, key=lambda p: (danish_key(p.name), p.name))


def _party_row(p: PartyLine) -> tuple[Cell, ...]:
    return (
        p.name,
        "; ".join(p.emails),
        _excel_time(p.invited_at),
        str(p.status),
        p.responses,
        _excel_time(p.latest),
    )


def _response_row(r: ResponseLine) -> tuple[Cell, ...]:
    return (
        r.number,
        r.party,
        r.sender,
        _excel_time(r.received_at),
        str(r.channel),
        "Nej" if r.late else "Ja",
        r.subject,
        r.text,
        "\n".join(r.attachments),
        r.reference,
        r.campaign or "",
        "Ja" if r.no_remarks else "",
        r.sha256,
        r.full_text,
    )


def _remark_row(m: RemarkLine, notes: dict[str, StaffNote]) -> tuple[Cell, ...]:
    note = notes.get(m.number, StaffNote())
    return (
        m.number,
        m.party,
        m.section,
        m.text,
        m.proposal,
        note.reply,
        note.change,
        note.gives_change,
        m.response_number,
        "Nej" if m.late else "Ja",
        m.reference or m.number,  # an assembly not renumbered shows the stored numbers
        m.placed_by,
    )


def _review_row(v: ReviewLine) -> tuple[Cell, ...]:
    return (
        v.reference,
        _excel_time(v.received_at),
        v.sender,
        v.subject,
        v.reason,
        v.decision,
        v.decided_party or v.party_hint,
    )


# --------------------------------------------------------------------------------------- reading


def read_staff_edits(path: Path, known_remarks: set[str], known_review: set[str]) -> StaffEdits:
    """What staff typed into the log at ``path``; empty when there is no log yet.

    Raises LogEditConflictError, and so writes nothing, when typed text cannot be matched to a
    remark or a review item: a person's work is never dropped silently.
    """
    if not path.exists():
        return StaffEdits()
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise LogEditConflictError(str(path), [f"filen kan ikke læses ({exc})"]) from exc
    problems: list[str] = []
    notes = _read_notes(workbook, known_remarks, problems)
    decisions = _read_decisions(workbook, known_review, problems)
    if problems:
        raise LogEditConflictError(str(path), problems)
    return StaffEdits(notes=notes, decisions=decisions)


def _sheets_of(workbook: Any, base: str) -> list[str]:
    names: list[str] = list(workbook.sheet_names)
    return [n for n in names if n == base or (n.startswith(base + " (") and n.endswith(")"))]


def _cell_text(value: Any) -> str:
    """A cell as text; numbers staff retyped (3 → 3.0) and dates come back as they were meant."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _table(workbook: Any, sheet: str, required: Sequence[str], problems: list[str]) -> list[dict[str, str]]:
    """The sheet's rows as dicts keyed by header text; the header is the first non-empty row."""
    rows: list[list[Any]] = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    start = next((i for i, row in enumerate(rows) if any(_cell_text(v) for v in row)), None)
    if start is None:
        problems.append(f"fanen »{sheet}« er tom (overskriftsrækken mangler)")
        return []
    header = [_cell_text(v) for v in rows[start]]
    missing = [h for h in required if h not in header]
    if missing:
        problems.append(f"fanen »{sheet}« mangler kolonnen " + ", ".join(f"»{h}«" for h in missing))
        return []
    index = {h: header.index(h) for h in header if h}
    table = []
    for offset, row in enumerate(rows[start + 1 :], start=start + 2):
        record = {h: _cell_text(row[i]) if i < len(row) else "" for h, i in index.items()}
        record["__row__"] = str(offset)
        table.append(record)
    return table


def _read_notes(workbook: Any, known: set[str], problems: list[str]) -> dict[str, StaffNote]:
    sheets = _sheets_of(workbook, REMARKS)
    if not sheets:
        problems.append(f"fanen »{REMARKS}« mangler")
        return {}
    notes: dict[str, StaffNote] = {}
    for sheet in sheets:
        for record in _table(workbook, sheet, (NR, REPLY, CHANGE), problems):
            note = StaffNote(
                reply=record.get(REPLY, ""),
                change=record.get(CHANGE, ""),
                gives_change=_choice(record.get(GIVES_CHANGE, ""), GIVES_CHANGE_VALUES),
            )
            _add_note(notes, sheet, record, note, known, problems)
    return notes


def _add_note(
    notes: dict[str, StaffNote],
    sheet: str,
    record: dict[str, str],
    note: StaffNote,
    known: set[str],
    problems: list[str],
) -> None:
    # a row's Reference names its remark for good (Nr. is the shown number, which shifts when an
    # item is included later); a log written before the column existed names it by Nr.
    label = REFERENCE if REFERENCE in record else NR
    shown = record[label]
    nr = (stored_remark_number(shown) or "") if label == REFERENCE and shown else shown
    where = f"»{sheet}« række {record['__row__']}"
    if note.is_empty():
        return
    if not shown:
        problems.append(f"{where}: forvaltningens tekst står i en række uden {label}")
    elif nr not in known:
        problems.append(
            f"{where}: {label} {shown} er ikke en kendt bemærkning, men rækken har forvaltningens tekst"
        )
    elif nr in notes and notes[nr] != note:
        problems.append(f"{where}: {label} {shown} står flere gange med forskellig tekst")
    else:
        notes[nr] = note


def _choice(value: str, choices: Sequence[str]) -> str:
    """A drop-down value with its spelling restored ("ja" → "Ja"); anything else as typed."""
    for choice in choices:
        if value.casefold() == choice.casefold():
            return choice
    return value


def _read_decisions(workbook: Any, known: set[str], problems: list[str]) -> dict[str, tuple[str, str]]:
    decisions: dict[str, tuple[str, str]] = {}
    for sheet in _sheets_of(workbook, REVIEW):
        for record in _table(workbook, sheet, (REFERENCE, DECISION, PARTY), problems):
            decision = _choice(record[DECISION], DECISIONS)
            if not decision:
                continue
            ref, where = record[REFERENCE], f"»{sheet}« række {record['__row__']}"
            entry = (decision, record[PARTY])
            if decision not in DECISIONS:
                problems.append(f"{where}: Beslutning »{decision}« er hverken Medtag eller Afvis")
            elif ref not in known:
                problems.append(f"{where}: referencen »{ref}« er ikke et kendt element til gennemsyn")
            elif ref in decisions and decisions[ref] != entry:
                problems.append(f"{where}: referencen »{ref}« står flere gange med forskellig beslutning")
            else:
                decisions[ref] = entry
    return decisions
