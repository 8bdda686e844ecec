"""The log's `Afsnit`: a drop-down of the draft's sections in `Bemærkninger`, the sheet it lists
them from, and the choices staff made there, read back before the log is rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from flows.core.numbering import stored_remark_number
from flows.core.sections import GENERAL, Section, unique_labels

SECTIONS_SHEET = "Udkastets afsnit"
SECTION = "Afsnit"
PLACED_BY = "Placeret ud fra"
REFERENCE = "Reference"  # the remark's stable key (excel_log's column of that name)
SECTION_HEADERS = ("Afsnit", "Nr.", "Overskrift", "Niveau", "Side", "Dokument")


def section_rows(sections: Sequence[Section]) -> Iterable[tuple[str | int | None, ...]]:
    """The sheet the drop-down lists from: "Generelt" first, then the sections in the draft's order."""
    yield (GENERAL, "", "Bemærkninger til udkastet som helhed", None, None, "")
    for section, label in zip(sections, unique_labels(sections), strict=True):
        yield (label, section.number, section.title, section.level, section.page, section.document)


def choices_range(sections: Sequence[Section]) -> str:
    """The cells of the drop-down's values (column A of the sections sheet)."""
    return f"'{SECTIONS_SHEET}'!$A$2:$A${len(sections) + 2}"


def read_section_choices(path: Path, sheet_base: str, number_header: str) -> dict[str, str]:
    """Per remark number, the `Afsnit` the log at ``path`` holds (empty when there is no log).

    Only logs that already have `Placeret ud fra` are read: an older log's `Afsnit` is the
    template's own column, not a choice among the draft's sections.
    """
    if not path.exists():
        return {}
    try:
        workbook: Any = CalamineWorkbook.from_path(str(path))
    except Exception:  # unreadable: read_staff_edits, which runs first, has already said so
        return {}
    found: dict[str, str] = {}
    for name in workbook.sheet_names:
        if not (name == sheet_base or (name.startswith(sheet_base + " (") and name.endswith(")"))):
            continue
        rows: list[list[Any]] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        start = next((i for i, row in enumerate(rows) if any(_text(v) for v in row)), None)
        if start is None:
            continue
        header = [_text(v) for v in rows[start]]
        if not {number_header, SECTION, PLACED_BY} <= set(header):
            continue
        # The stable reference (ROUND-0007.1) names the stored remark; `Nr.` shifts with renumbering.
        by_reference = REFERENCE in header
        nr = header.index(REFERENCE if by_reference else number_header)
        section = header.index(SECTION)
        for row in rows[start + 1 :]:
            number = _text(row[nr]) if nr < len(row) else ""
            if by_reference and number:
                number = stored_remark_number(number) or ""
            if number:
                found[number] = _text(row[section]) if section < len(row) else ""
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
