"""The høringslog: which sheets and columns it has, and their rows, written from an Assembly.

The workbook itself is streamed by ``xlsx_stream`` (SpreadsheetML written row by row, every text
cell an inline string, never a formula; staff columns unlocked and tinted). What staff type into
it is read back by ``excel_edits``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

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
from flows.adapters.xlsx_stream import Cell, Column, Table, write_workbook
from flows.core.assembly import (
    Assembly,
    PartyLine,
    RemarkLine,
    ResponseLine,
    ReviewLine,
    StaffNote,
)
from flows.core.danish import danish_key, local
from flows.core.model import PartyStatus, Round
from flows.core.retention import deletion_date, deletion_text
from flows.core.sections import choosable

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
    extra: Sequence[Table] = (),
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
    extra: Sequence[Table] = (),
) -> None:
    write_workbook(
        path,
        [*_tables(assembly), *extra],
        title=f"Høringslog – {assembly.round.title}",
        subject=assembly.round.id,
        created=assembly.generated_at,
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
