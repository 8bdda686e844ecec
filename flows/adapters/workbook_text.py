"""The one workbook-text reader: which sheets count as shown, and their cells as text.

It exists so that every workbook from outside (a returned template or any .xlsx, an .xlsb, .ods
or old .xls read in the sandbox, a party list) is judged by one visibility rule and turned into
text the same way:

* a worksheet is *shown* when its state is "visible"; hidden and very hidden sheets are not
  shown (a template's remarks and a party list come only from shown sheets);
* the text for staff holds the shown sheets first and then, marked »skjult ark«, the hidden
  ones (our own reference sheet aside): a party can hide a sheet, but text it sent is never
  dropped without a word, and ``hidden_notice`` asks a person to check it. Hidden rows and
  columns are read like any other (calamine and the bounded openpyxl read do not skip them);
* reading is bounded: at most ``MAX_SHEETS`` sheets of text, ``MAX_ROWS`` rows and ``MAX_COLS``
  columns each, ``MAX_TEXT_CHARS`` characters in all.

Reading uses python-calamine (about 20x faster than openpyxl on small files, performance.md
§2.4); openpyxl read-only is the fallback for sheets whose cells span a range calamine would
allocate whole.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flows.adapters.file_guard import PROBLEM_ENCRYPTED, Refused, cap
from flows.adapters.sheet_formulas import Book

MAX_SHEETS = 5
MAX_ROWS = 2_000
MAX_COLS = 20
HIDDEN_MARK = "skjult ark"


def is_shown(state: object) -> bool:
    """The one visibility rule: calamine's ``SheetVisibleEnum.Visible`` or openpyxl's "visible"."""
    return str(state).rsplit(".", 1)[-1].lower() == "visible"


def calamine_sheets(book: Any) -> list[tuple[str, bool]]:
    """Each worksheet of a calamine workbook (chart sheets aside) and whether it is shown."""
    return [
        (meta.name, is_shown(meta.visible))
        for meta in book.sheets_metadata
        if str(meta.typ).endswith("WorkSheet")
    ]


def cell_text(value: Any) -> str:
    """A spreadsheet cell as display text: 3.0 becomes "3", dates become ISO, None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text.removesuffix("T00:00:00")
    return str(value).strip()


def grid_text(rows: list[list[Any]]) -> str:
    """Rows of cells as tab-separated lines, empty rows dropped."""
    lines = []
    for row in rows[:MAX_ROWS]:
        cells = [cell_text(v) for v in row[:MAX_COLS]]
        if any(cells):
            lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)


@dataclass
class SheetText:
    """The text of a workbook's sheets, and the hidden sheets whose text it holds."""

    text: str
    hidden: list[str]


def sheets_text(book: Book, sheets: list[tuple[str, bool]], *, skip: Iterable[str] = ()) -> SheetText:
    """Shown sheets first, then hidden ones (marked), at most ``MAX_SHEETS`` with text."""
    left_out = set(skip)
    ordered = [(n, s) for n, s in sheets if s] + [(n, s) for n, s in sheets if not s]
    parts: list[str] = []
    hidden: list[str] = []
    for name, shown in ordered:
        if name in left_out or len(parts) >= MAX_SHEETS:
            continue
        text = grid_text(book.rows(name))
        if text:
            parts.append(f"[{name}]\n{text}" if shown else f"[{name} ({HIDDEN_MARK})]\n{text}")
            hidden += [] if shown else [name]
    return SheetText(cap("\n\n".join(parts)), hidden)


def hidden_notice(hidden: list[str]) -> str | None:
    """The Danish notice for staff when text from hidden sheets is shown."""
    if not hidden:
        return None
    names = ", ".join(f"»{name}«" for name in hidden)
    word = "et skjult ark" if len(hidden) == 1 else "skjulte ark"
    return f"Regnearket har tekst i {word} ({names}) – teksten er vist; kontroller den i filen"


class CalamineBook:
    """A workbook read by python-calamine, each sheet from its first used cell."""

    def __init__(self, data: bytes) -> None:
        import python_calamine

        try:
            self._book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except python_calamine.PasswordError as exc:
            raise Refused(PROBLEM_ENCRYPTED) from exc
        self._origins: dict[str, tuple[int, int]] = {}

    def sheets(self) -> list[tuple[str, bool]]:
        return calamine_sheets(self._book)

    def rows(self, name: str) -> list[list[Any]]:
        sheet = self._book.get_sheet_by_name(name)
        rows: list[list[Any]] = sheet.to_python(nrows=MAX_ROWS)  # from the first used cell, not A1
        self._origins[name] = tuple(sheet.start) if sheet.start else (0, 0)  # type: ignore[assignment]
        return [row[:MAX_COLS] for row in rows]

    def origin(self, name: str) -> tuple[int, int]:
        return self._origins.get(name, (0, 0))


class OpenpyxlBook:
    """Read-only openpyxl with explicit bounds: slow, but safe for far-flung cells."""

    def __init__(self, data: bytes) -> None:
        import warnings

        from openpyxl import load_workbook

        with warnings.catch_warnings():  # style complaints from odd producers are not our concern
            warnings.simplefilter("ignore")
            self._book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)

    def sheets(self) -> list[tuple[str, bool]]:
        return [(ws.title, is_shown(ws.sheet_state)) for ws in self._book.worksheets]

    def rows(self, name: str) -> list[list[Any]]:
        ws = self._book[name]
        return [list(r) for r in ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLS, values_only=True)]

    def origin(self, name: str) -> tuple[int, int]:
        return (0, 0)


def calamine_text(data: bytes) -> tuple[str, str | None]:
    """Text of an .xlsb, .ods or .xls (read in the sandbox) and the hidden-sheet notice."""
    book = CalamineBook(data)
    found = sheets_text(book, book.sheets())
    return found.text, hidden_notice(found.hidden)
