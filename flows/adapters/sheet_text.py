"""Text in a cell of a workbook hoering writes: always a string cell, never a formula.

The one place for the rule both workbooks follow, the høringslog (streamed SpreadsheetML) and the
response template mailed to every party (openpyxl). A value that begins with = + - @ (or a tab
or CR before one of them, or a DDE payload such as ``=cmd|' /C calc'!A0``) is text like any
other: it is written as a string cell whose value is exactly the text, with no apostrophe added,
so Excel, LibreOffice and every reader show it and evaluate nothing.

The text is cleaned as everything shown is (``clean_text``: characters XML cannot hold and the
invisible bidi and zero-width controls removed), cut at Excel's 32,767-character limit with a
marker, and a literal ``_xHHHH_`` is escaped so that Excel does not read it as a character code.
"""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

from flows.core.quality import clean_text

MAX_CELL = 32_767
TRUNCATED = " […forkortet; hele teksten er i databasen]"

# Excel reads "_xHHHH_" in a string as an escaped character; a literal one must have its "_" escaped.
_EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def sheet_text(value: Any) -> str:
    """Outside text as a cell can hold it: clean, at most 32,767 characters, marked when cut."""
    text = clean_text(str(value))
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - len(TRUNCATED)] + TRUNCATED
    return text


def _excel_escaped(text: str) -> str:
    return _EXCEL_ESCAPE.sub(r"_x005F_\1", text) if "_x" in text else text


def inline_string_xml(value: Any) -> str:
    """The XML content of an inline string (``<is><t>…</t></is>``) holding exactly ``value``."""
    text = sheet_text(value)
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    text = escape(text)
    # A literal CR would be normalised to LF by every XML parser; a character reference survives.
    return text.replace("\r", "&#13;") if "\r" in text else text


def put_text(cell: Any, value: Any) -> Any:
    """Write ``value`` into an openpyxl cell as a string cell, whatever its first character is.

    openpyxl turns any str that starts with "=" into a formula on assignment; the data type is set
    back to string afterwards, which openpyxl writes as an inline string. Returns the cell.
    """
    cell.value = _excel_escaped(sheet_text(value))
    cell.data_type = "s"
    return cell
