"""The Excel response template (høringsskema): build it for a party, read it back.

The layout follows the ISO/IEC comment sheet (consultation-practice.md §10): one remark per
row, with the place in the draft, the remark, and a proposed change. A very hidden sheet and
two workbook-level named constants carry the round id and the party, so a returned template is
matched even when it arrives from another address.

Reading goes through the one workbook reader (``workbook_text``: calamine, or bounded openpyxl
for far-flung cells; shown and hidden sheets judged there). A formula saved without its value
(as programs such as openpyxl write them) is read as its formula text and named in a notice for
staff (``sheet_formulas``), never dropped as an empty cell.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flows.adapters.file_guard import MAX_SHEET_CELLS, Refused, ZipFacts, corrupt, inspect_zip
from flows.adapters.sheet_formulas import Book, formula_notice, with_formulas
from flows.adapters.sheet_text import put_text, sheet_text
from flows.adapters.workbook_text import (
    MAX_COLS,
    MAX_ROWS,
    MAX_SHEETS,
    CalamineBook,
    OpenpyxlBook,
    cell_text,
    hidden_notice,
    sheets_text,
)
from flows.core.message import TemplateRef
from flows.core.model import Remark

ANSWER_SHEET = "Høringssvar"
GUIDE_SHEET = "Vejledning"
REF_SHEET = "_hoering"
NAME_ROUND = "hoering_round_id"
NAME_PARTY = "hoering_party"
HEADERS = ("Afsnit / side", "Bemærkning", "Forslag til ændring")
HEADER_ROW = 6
ANSWER_ROWS = 200

HEADER_SEARCH_ROWS = 20

_SECTION = {
    "afsnitside",
    "afsnit",
    "side",
    "sidetal",
    "afsnitsidetal",
    "sideafsnit",
    "afsnitnr",
    "sted",
    "kapitel",
    "punkt",
    "afsnitellerside",
    "afsnitogside",
    "henvisning",
    "paragraf",
    "afsnitsidelinje",
}
_TEXT = {
    "bemærkning",
    "bemærkninger",
    "bemaerkning",
    "bemaerkninger",
    "bemærkningerne",
    "kommentar",
    "kommentarer",
    "bemærkningkommentar",
    "høringssvar",
    "hoeringssvar",
    "comments",
    "comment",
}
_PROPOSAL = {
    "forslagtilændring",
    "forslagtilændringer",
    "forslag",
    "ændringsforslag",
    "forslagtilaendring",
    "aendringsforslag",
    "forslagtilændringafteksten",
    "foreslåetændring",
    "proposedchange",
}


@dataclass
class TemplateResult:
    """What a returned template held; ``problem`` says in Danish why it was not recognised.

    ``notice`` says what a person must check in a template that was read (formulas without a
    value, shown as text).
    """

    remarks: list[Remark] = field(default_factory=list)
    ref: TemplateRef | None = None
    problem: str | None = None
    recognised: bool = False
    notice: str | None = None


@dataclass
class WorkbookOutcome:
    """A workbook read for ``inspect_attachment``: template facts when it is ours, text, and a notice."""

    template: TemplateResult | None
    text: str
    notice: str | None = None


# --------------------------------------------------------------------------- building


def build_template(round_id: str, round_title: str, party_name: str, deadline_text: str) -> bytes:
    """The template a party receives with the invitation, as .xlsx bytes."""
    from openpyxl import Workbook

    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = GUIDE_SHEET
    _write_guide(guide, round_title, deadline_text)
    answers = wb.create_sheet(ANSWER_SHEET)
    _write_answer_sheet(answers, round_title, party_name, deadline_text)
    _write_reference(wb, round_id, party_name)
    wb.active = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_guide(ws: Any, round_title: str, deadline_text: str) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        f"Høringsskema: {round_title}",
        "",
        "Sådan udfylder du skemaet",
        f"1. Skriv jeres bemærkninger i arket '{ANSWER_SHEET}'.",
        "2. Skriv én bemærkning pr. række.",
        f"3. I kolonnen '{HEADERS[0]}' skriver I, hvilket afsnit eller hvilken side i udkastet "
        "bemærkningen handler om.",
        f"4. I kolonnen '{HEADERS[1]}' skriver I selve bemærkningen.",
        f"5. I kolonnen '{HEADERS[2]}' kan I foreslå en konkret ændring af teksten (frivilligt).",
        "6. Ret ikke i overskrifterne, og flyt eller slet ikke arkene. Tilføj ikke nye kolonner.",
        "7. Gem filen som Excel-fil (.xlsx) og send den som svar på høringsbrevet til den "
        f"e-mailadresse, brevet kom fra, inden fristen: {deadline_text}.",
        "",
        "Har I ingen bemærkninger, kan I blot svare på e-mailen og skrive det.",
    ]
    for row, line in enumerate(lines, start=1):
        put_text(ws.cell(row=row, column=1), line)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A3"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 110
    for row in ws.iter_rows(min_row=1, max_row=len(lines)):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _write_answer_sheet(ws: Any, round_title: str, party_name: str, deadline_text: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill, Protection

    facts = [("Høring", round_title), ("Høringspart", party_name), ("Frist", deadline_text)]
    # Every text cell is a string cell (put_text): a party named "=HYPERLINK(…)" is a name, not a link.
    for row, (label, value) in enumerate(facts, start=1):
        put_text(ws.cell(row=row, column=1), label).font = Font(bold=True)
        put_text(ws.cell(row=row, column=2), value)
    put_text(ws.cell(row=4, column=1), "Én bemærkning pr. række. Ret ikke i overskrifterne.")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for col, title in enumerate(HEADERS, start=1):
        cell = put_text(ws.cell(row=HEADER_ROW, column=col), title)
        cell.font = Font(bold=True)
        cell.fill = header_fill
    wrap = Alignment(wrap_text=True, vertical="top")
    unlocked = Protection(locked=False)
    for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + ANSWER_ROWS):
        for col in range(1, len(HEADERS) + 1):
            cell = ws.cell(row=row, column=col)
            cell.alignment = wrap
            cell.protection = unlocked
    for letter, width in zip("ABC", (18, 70, 50), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    # Protection without a password: it guards the headings against slips, not against intent.
    ws.protection.sheet = True
    ws.protection.formatRows = False
    ws.protection.formatColumns = False


def _write_reference(wb: Any, round_id: str, party_name: str) -> None:
    from openpyxl.workbook.defined_name import DefinedName

    ref = wb.create_sheet(REF_SHEET)
    for row, (key, value) in enumerate((("round_id", round_id), ("party", party_name)), start=1):
        put_text(ref.cell(row=row, column=1), key)
        put_text(ref.cell(row=row, column=2), value)
    put_text(ref["A3"], "version")
    ref["B3"] = 1
    ref.sheet_state = "veryHidden"
    ref.protection.sheet = True
    # Named constants survive even if the hidden sheet is lost. Each is a string literal (quotes
    # doubled), so a party named "=HYPERLINK(…)" is a constant text here too, never an expression.
    for name, value in ((NAME_ROUND, round_id), (NAME_PARTY, party_name)):
        constant = '"' + sheet_text(value).replace('"', '""') + '"'
        wb.defined_names[name] = DefinedName(name, attr_text=constant)


# --------------------------------------------------------------------------- reading


def read_template(data: bytes) -> TemplateResult:
    """Remarks and the hidden reference from a returned template; never raises."""
    try:
        outcome = read_checked(data, inspect_zip(data))
    except Refused as exc:
        return TemplateResult(problem=exc.reason)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine/openpyxl errors (and pyo3 panics) mean an unreadable file
        return TemplateResult(problem=corrupt(exc.__class__.__name__))
    if outcome.template is None:
        return TemplateResult(problem=_MISSING_TEXT)
    return outcome.template


_MISSING_TEXT = f"Kolonnen '{HEADERS[1]}' blev ikke fundet i regnearket"


def read_checked(data: bytes, facts: ZipFacts) -> WorkbookOutcome:
    """Read a workbook that already passed ``inspect_zip``. Raises on unreadable files."""
    if facts.kind not in ("xlsx", "xlsm"):
        raise Refused("Filen er ikke et Excel-regneark (.xlsx)")
    fits = all(cells <= MAX_SHEET_CELLS for cells in facts.sheet_cells.values())
    plain: Book = CalamineBook(data) if fits else OpenpyxlBook(data)
    book = with_formulas(plain, data, facts.formula_sheets, max_rows=MAX_ROWS, max_cols=MAX_COLS)
    found_at = book.found
    sheets = book.sheets()
    names = {name for name, _ in sheets}
    ref = _ref_from_sheet(plain) if REF_SHEET in names else None
    if ref is None:
        ref = _ref_from_names(data)
    for name in _candidate_sheets(sheets):
        found = _remarks_from(book.rows(name))
        if found is not None:
            remarks = found
            text = "\n\n".join(_remark_text(r) for r in remarks)
            notice = formula_notice(found_at, [name], template=True)
            result = TemplateResult(remarks=remarks, ref=ref, recognised=True, notice=notice)
            return WorkbookOutcome(result, text, notice)
    shown = sheets_text(book, sheets, skip=[REF_SHEET])
    text = shown.text
    formulas = formula_notice(found_at, [n for n, _ in sheets], template=ref is not None)
    notice = "; ".join(n for n in (formulas, hidden_notice(shown.hidden)) if n) or None
    if ref is not None:  # ours, but damaged: say what was wrong
        problem = "Høringsskemaet kunne ikke læses: " + _MISSING_TEXT[0].lower() + _MISSING_TEXT[1:]
        return WorkbookOutcome(TemplateResult(ref=ref, problem=problem, notice=notice), text, notice)
    return WorkbookOutcome(None, text, notice)


def _candidate_sheets(sheets: list[tuple[str, bool]]) -> list[str]:
    visible = [name for name, shown in sheets if shown and name != REF_SHEET]
    preferred = [n for n in visible if _norm(n) == _norm(ANSWER_SHEET)]
    return preferred + [n for n in visible if n not in preferred][:MAX_SHEETS]


def _remark_text(remark: Remark) -> str:
    lines = [f"Afsnit: {remark.section}"] if remark.section else []
    lines.append(remark.text)
    if remark.proposal:
        lines.append(f"Forslag til ændring: {remark.proposal}")
    return "\n".join(lines)


_NON_WORD = re.compile(r"[\W_]+")


def _norm(value: Any) -> str:
    return _NON_WORD.sub("", cell_text(value).casefold()) if value is not None else ""


def _find_header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for col, value in enumerate(row):
            key = _norm(value)
            for role, accepted in (("section", _SECTION), ("text", _TEXT), ("proposal", _PROPOSAL)):
                if key in accepted and role not in columns:
                    columns[role] = col
        if "text" in columns:
            return index, columns
    return None


def _remarks_from(rows: list[list[Any]]) -> list[Remark] | None:
    """The remarks under the header row, or None when the sheet has no recognisable header."""
    header = _find_header(rows)
    if header is None:
        return None
    index, columns = header
    remarks = []
    for row in _body_rows(rows[index + 1 :]):
        fields = {role: cell_text(row[col]) if col < len(row) else "" for role, col in columns.items()}
        text, proposal = fields.get("text", ""), fields.get("proposal", "")
        if text or proposal:  # a row with only a page number says nothing
            remarks.append(Remark(section=fields.get("section", ""), text=text, proposal=proposal))
    return remarks


def _body_rows(rows: list[list[Any]]) -> Iterator[list[Any]]:
    for row in rows:
        if any(v not in (None, "") for v in row):
            yield row


_DEFINED = re.compile(rb'<(?:\w+:)?definedName\b[^>]*\bname="(hoering_round_id|hoering_party)"[^>]*>(.*?)</')


def _ref_from_names(data: bytes) -> TemplateRef | None:
    """The reference from the workbook's named constants (kept even if the hidden sheet is gone)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        part = next((n for n in zf.namelist() if n.endswith("workbook.xml")), None)
        if part is None or zf.getinfo(part).file_size > 4 * 1024 * 1024:
            return None
        xml = zf.read(part)
    values = {}
    for name, raw in _DEFINED.findall(xml):
        text = html.unescape(raw.decode("utf-8", errors="replace")).strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            values[name.decode()] = text[1:-1].replace('""', '"')
    if values.get(NAME_ROUND):
        return TemplateRef(round_id=values[NAME_ROUND], party_name=values.get(NAME_PARTY, ""))
    return None


def _ref_from_sheet(book: Book) -> TemplateRef | None:
    rows = [[cell_text(v) for v in row[:2]] for row in book.rows(REF_SHEET)[:10]]
    values = {row[0]: row[1] for row in rows if len(row) >= 2}
    if values.get("round_id"):
        return TemplateRef(round_id=values["round_id"], party_name=values.get("party", ""))
    # the bare layout (A1 = round id, A2 = party) that earlier templates and the benchmark use
    column = [row[0] for row in rows if row and row[0]]
    if column and column[0] != "round_id":
        return TemplateRef(round_id=column[0], party_name=column[1] if len(column) > 1 else "")
    return None
