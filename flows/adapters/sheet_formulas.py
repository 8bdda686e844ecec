"""Formulas a returned workbook holds without a cached value: text a reader would otherwise lose.

Excel and LibreOffice save every formula with its last result, and that result is what hoering
reads. Workbooks written by programs (openpyxl, some report generators) save the formula alone;
python-calamine then sees an empty cell and the row would vanish without a word. This module
finds those cells in the sheet XML, so the reader can keep the row, show the formula as text and
ask a person to check it. A formula whose cached result is the empty string (``t="str"`` with an
empty ``<v>``, as Excel writes ``=IF(A1="";"";…)``) has a value and is not reported.

Only called for sheets ``inspect_zip`` saw a formula in (DTDs are refused there already), and
only within the rows the reader reads.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from typing import Any, Protocol

from lxml import etree

from flows.adapters.file_guard import column_number

MAX_PART = 4 * 1024 * 1024
NO_FORMULA_TEXT = "[formel uden beregnet værdi]"
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})$")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's name and the zip entry that holds it, from the workbook and its rels."""
    names = set(zf.namelist())
    workbook = next((n for n in sorted(names) if n.endswith("workbook.xml")), None)
    if workbook is None:
        return {}
    folder, base = posixpath.split(workbook)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    if rels_name not in names or any(zf.getinfo(n).file_size > MAX_PART for n in (workbook, rels_name)):
        return {}
    targets = {}
    for rel in etree.fromstring(zf.read(rels_name), _parser()).iter():
        if _local(rel.tag) == "Relationship" and rel.get("Id") and rel.get("Target"):
            target = str(rel.get("Target"))
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            targets[str(rel.get("Id"))] = posixpath.normpath(path)
    parts = {}
    for sheet in etree.fromstring(zf.read(workbook), _parser()).iter():
        if _local(sheet.tag) == "sheet":
            rid = sheet.get(f"{{{_REL_NS}}}id") or sheet.get(f"{{{_STRICT_REL_NS}}}id")
            if sheet.get("name") and rid in targets:
                parts[str(sheet.get("name"))] = targets[str(rid)]
    return parts


def uncached_formulas(data: bytes, part: str, *, max_row: int, max_col: int) -> dict[tuple[int, int], str]:
    """``{(row, column): "=formula"}`` (1-based) for formula cells without a cached value.

    Cells beyond ``max_row`` or ``max_col`` are not looked at; parsing stops at the first row
    past ``max_row``.
    """
    found: dict[tuple[int, int], str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open(part) as stream:
        row_no = col_no = 0
        current_row = None
        events = etree.iterparse(
            stream, events=("end",), tag="{*}c", resolve_entities=False, no_network=True, huge_tree=False
        )
        for _, cell in events:
            parent = cell.getparent()
            if parent is not current_row:
                if current_row is not None:
                    current_row.clear()  # rows already read are not kept in memory
                current_row, col_no = parent, 0
                declared = parent.get("r") if parent is not None else None
                row_no = int(declared) if declared and declared.isdigit() else row_no + 1
            ref = _REF.match(cell.get("r") or "")
            if ref:
                row_no, col_no = int(ref.group(2)), column_number(ref.group(1))
            else:
                col_no += 1
            if row_no > max_row:
                break
            if col_no <= max_col:
                formula = _formula_without_value(cell)
                if formula is not None:
                    found[(row_no, col_no)] = formula
            cell.clear(keep_tail=True)
    return found


def _formula_without_value(cell: etree._Element) -> str | None:
    formula = value = None
    for child in cell:
        name = _local(child.tag)
        if name == "f":
            formula = child
        elif name == "v":
            value = child
    if formula is None:
        return None
    if value is not None and (value.text or cell.get("t") == "str"):
        return None  # a cached result, possibly the empty string
    text = (formula.text or "").strip()
    return "=" + text if text else NO_FORMULA_TEXT


def overlay(
    rows: list[list[object]], origin: tuple[int, int], formulas: dict[tuple[int, int], str], max_rows: int
) -> tuple[list[list[object]], tuple[int, int]]:
    """The grid with each uncached formula's text in its cell, and the grid's new origin.

    ``rows`` start at ``origin`` (0-based row and column, as calamine's range starts); the grid
    grows up, left, down or right to take in formulas outside it, to at most ``max_rows`` rows.
    """
    if not formulas:
        return rows, origin
    top = min(origin[0], *(r - 1 for r, _ in formulas))
    left = min(origin[1], *(c - 1 for _, c in formulas))
    bottom = max(origin[0] + len(rows), *(r for r, _ in formulas))
    right = max(origin[1] + max((len(row) for row in rows), default=0), *(c for _, c in formulas))
    height = min(bottom - top, max_rows)
    grid: list[list[object]] = [[None] * (right - left) for _ in range(height)]
    for i, row in enumerate(rows):
        y = origin[0] - top + i
        if y < height:
            x = origin[1] - left
            grid[y][x : x + len(row)] = row
    for (r, c), text in formulas.items():
        if r - 1 - top < height and grid[r - 1 - top][c - 1 - left] in (None, ""):
            grid[r - 1 - top][c - 1 - left] = text
    return grid, (top, left)


class Book(Protocol):
    """The reader's view of a workbook (calamine, or openpyxl for far-flung cells)."""

    def sheets(self) -> list[tuple[str, bool]]: ...

    def rows(self, name: str) -> list[list[Any]]: ...

    def origin(self, name: str) -> tuple[int, int]:
        """0-based row and column of the first cell ``rows`` gives (call ``rows`` first)."""
        ...


class FormulaBook:
    """A book whose rows show each formula without a cached value as its text, never as a gap.

    Remembers the sheet rows it found such formulas in, for the notice staff read.
    """

    def __init__(self, book: Book, data: bytes, parts: dict[str, str], max_rows: int, max_cols: int) -> None:
        self._book, self._data, self._parts = book, data, parts
        self._max_rows, self._max_cols = max_rows, max_cols
        self._rows: dict[str, list[list[Any]]] = {}
        self.found: dict[str, list[int]] = {}

    def sheets(self) -> list[tuple[str, bool]]:
        return self._book.sheets()

    def origin(self, name: str) -> tuple[int, int]:
        return self._book.origin(name)

    def rows(self, name: str) -> list[list[Any]]:
        if name in self._rows:
            return self._rows[name]
        rows = self._book.rows(name)
        if name in self._parts:
            top, left = self._book.origin(name)
            formulas = uncached_formulas(
                self._data, self._parts[name], max_row=top + self._max_rows, max_col=left + self._max_cols
            )
            if formulas:
                self.found[name] = sorted({row for row, _ in formulas})
                grid, _ = overlay(rows, (top, left), formulas, self._max_rows)
                rows = [row[: self._max_cols] for row in grid]
        self._rows[name] = rows
        return rows


def with_formulas(
    book: Book, data: bytes, formula_parts: set[str], *, max_rows: int, max_cols: int
) -> FormulaBook:
    """``book`` with the uncached formulas of the parts ``inspect_zip`` saw formulas in."""
    parts: dict[str, str] = {}
    if formula_parts:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = {name: part for name, part in sheet_parts(zf).items() if part in formula_parts}
    return FormulaBook(book, data, parts, max_rows, max_cols)


def formula_notice(found: dict[str, list[int]], sheets: list[str], *, template: bool) -> str | None:
    """The Danish notice for staff: where formulas without a value were shown as text."""
    places = []
    for name in sheets:
        rows = found.get(name, [])
        if rows:
            listed = ", ".join(map(str, rows[:10])) + (
                f" og {len(rows) - 10} flere" if len(rows) > 10 else ""
            )
            word = "række" if len(rows) == 1 else "rækkerne"
            places.append(f"{word} {listed}" if template else f"arket »{name}« {word} {listed}")
    if not places:
        return None
    what = "Skemaet" if template else "Regnearket"
    return (
        f"{what} indeholder formler uden beregnet værdi ({'; '.join(places)}) – "
        "formlerne er vist som tekst; kontroller dem i filen"
    )
