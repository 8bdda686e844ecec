"""The log's ``Offentliggørelse`` sheet: one row per redaction in the public version, and what
staff wrote there read back (``Vis`` on a row, or a row of their own with a text to hide).

The sheet is written by ``excel_log`` like every other (inline strings, never a formula); this
module holds its columns, its rows and its reader. Rows are found again by ``Hvor`` and
``Fundet``, not by ``Nr.``: the numbers change when a new response brings new finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from flows.adapters.excel_edits import choice, sheets_of, table
from flows.adapters.xlsx_stream import Cell, Column
from flows.core.errors import LogEditConflictError
from flows.core.redaction import EVERYWHERE, REPLACEMENT, Entry, PublicDecision, Publish, Reason

SHEET = "Offentliggørelse"
NR, WHERE, FOUND, REPLACED, REASON, DECISION = "Nr.", "Hvor", "Fundet", "Erstattet med", "Årsag", "Beslutning"
CHOICES = tuple(Publish)

# Every column but Nr. is open to staff: a row of their own needs Fundet (and may name Hvor,
# Erstattet med and Årsag).
COLUMNS = (
    Column(NR, 7, "number"),
    Column(WHERE, 30, "wrap", staff=True),
    Column(FOUND, 40, "wrap", staff=True),
    Column(REPLACED, 24, "wrap", staff=True),
    Column(REASON, 24, "wrap", staff=True),
    Column(DECISION, 13, staff=True, choices=CHOICES),
)

Table = tuple[str, Sequence[Column], Iterable[Sequence[Cell]]]


def public_sheet(entries: Sequence[Entry], added: Sequence[PublicDecision]) -> Table:
    """The sheet: every find of this assemble, then the staff's own texts that were found nowhere."""
    seen = {(e.place, e.found) for e in entries}
    extra = [
        Entry(d.place, d.found, d.replacement, d.reason, d.decision is Publish.SHOW)
        for d in added
        if (d.place, d.found) not in seen
    ]
    staff = {(d.place, d.found) for d in added}
    rows = []
    for number, e in enumerate([*entries, *extra], start=1):
        if e.shown:
            decision = Publish.SHOW.value
        else:
            decision = Publish.HIDE.value if (e.place, e.found) in staff else ""
        rows.append((number, e.place, e.found, e.replacement, e.reason, decision))
    return SHEET, COLUMNS, rows


def read_public_edits(
    path: Path, added: set[tuple[str, str]]
) -> tuple[list[PublicDecision], list[tuple[str, str]]]:
    """What staff wrote in the sheet: decisions to keep, and the ``Vis`` they took back.

    ``added`` are the rows staff typed in on an earlier run (so a numbered row is theirs, not a
    find). No log, or a log from before this sheet: nothing. A value that is neither ``Vis`` nor
    ``Skjul`` stops the run (LogEditConflictError), as everywhere in the log.
    """
    if not path.exists():
        return [], []
    try:
        workbook: Any = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise LogEditConflictError(str(path), [f"filen kan ikke læses ({exc})"]) from exc
    problems: list[str] = []
    decided: list[PublicDecision] = []
    cleared: list[tuple[str, str]] = []
    for sheet in sheets_of(workbook, SHEET):
        for record in table(workbook, sheet, (NR, WHERE, FOUND, DECISION), problems):
            _read_row(sheet, record, added, decided, cleared, problems)
    if problems:
        raise LogEditConflictError(str(path), problems)
    return decided, cleared


def _read_row(
    sheet: str,
    record: dict[str, str],
    added: set[tuple[str, str]],
    decided: list[PublicDecision],
    cleared: list[tuple[str, str]],
    problems: list[str],
) -> None:
    found = record[FOUND]
    if not found.strip():
        return
    decision = choice(record[DECISION], CHOICES)
    if decision and decision not in CHOICES:
        problems.append(
            f"»{sheet}« række {record['__row__']}: Beslutning »{decision}« er hverken Vis eller Skjul"
        )
        return
    place = record[WHERE].strip() or EVERYWHERE
    if record[NR] and (place, found) not in added:  # one of our finds
        if decision == Publish.SHOW:
            decided.append(PublicDecision(place, found, Publish.SHOW))
        else:
            cleared.append((place, found))
        return
    decided.append(
        PublicDecision(
            place,
            found,
            Publish.SHOW if decision == Publish.SHOW else Publish.HIDE,
            record.get(REPLACED, "").strip() or REPLACEMENT[Reason.STAFF],
            record.get(REASON, "").strip() or Reason.STAFF.value,
            added=True,
        )
    )
