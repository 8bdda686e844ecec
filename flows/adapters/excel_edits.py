"""Staff edits read back from the høringslog: replies, changes, review decisions.

python-calamine reads the workbook; columns are found by their header text, because staff sort,
insert and move rows and columns. Typed text that cannot be matched to a remark or a review item
stops the assemble (``LogEditConflictError``): a person's work is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from flows.adapters.excel_log import (
    CHANGE,
    DECISION,
    DECISIONS,
    GIVES_CHANGE,
    GIVES_CHANGE_VALUES,
    NR,
    PARTY,
    REMARKS,
    REPLY,
    REVIEW,
)
from flows.adapters.excel_sections import REFERENCE
from flows.core.assembly import StaffEdits, StaffNote
from flows.core.errors import LogEditConflictError
from flows.core.numbering import stored_remark_number


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


def sheets_of(workbook: Any, base: str) -> list[str]:
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


def table(workbook: Any, sheet: str, required: Sequence[str], problems: list[str]) -> list[dict[str, str]]:
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
    sheets = sheets_of(workbook, REMARKS)
    if not sheets:
        problems.append(f"fanen »{REMARKS}« mangler")
        return {}
    notes: dict[str, StaffNote] = {}
    for sheet in sheets:
        for record in table(workbook, sheet, (NR, REPLY, CHANGE), problems):
            note = StaffNote(
                reply=record.get(REPLY, ""),
                change=record.get(CHANGE, ""),
                gives_change=choice(record.get(GIVES_CHANGE, ""), GIVES_CHANGE_VALUES),
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


def choice(value: str, choices: Sequence[str]) -> str:
    """A drop-down value with its spelling restored ("ja" → "Ja"); anything else as typed."""
    for choice in choices:
        if value.casefold() == choice.casefold():
            return choice
    return value


def _read_decisions(workbook: Any, known: set[str], problems: list[str]) -> dict[str, tuple[str, str]]:
    decisions: dict[str, tuple[str, str]] = {}
    for sheet in sheets_of(workbook, REVIEW):
        for record in table(workbook, sheet, (REFERENCE, DECISION, PARTY), problems):
            decision = choice(record[DECISION], DECISIONS)
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
