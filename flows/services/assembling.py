"""Assemble: read back what staff typed, then write the log, the note and the bundle.

Staff edits are read first and saved in the database; if the log cannot be matched nothing is
written at all, so what a person typed is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.adapters.db.responses import Review
from flows.adapters.db.rounds import PartyEntry
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.drop_source import left_behind
from flows.adapters.excel_edits import read_staff_edits
from flows.adapters.excel_log import write_log
from flows.adapters.line_spill import SpilledLines
from flows.adapters.pdf_bundle import write_bundle
from flows.adapters.text_spill import TextSpill
from flows.adapters.word_note import write_note
from flows.bootstrap import App
from flows.core.assembly import Assembly, PartyLine, ReviewLine, StaffEdits
from flows.core.counting import party_status
from flows.core.danish import danish_key
from flows.core.model import Decision
from flows.core.outputs import output_paths
from flows.core.review import kind_after, read_decision
from flows.resources import resource
from flows.services import publishing
from flows.services.assembly_read import PartyTally, read_counted
from flows.services.chain import attach_chain
from flows.services.placing import prepare_placements, with_placements
from flows.services.purging import ensure_not_purged


@dataclass
class AssembleReport:
    log: Path
    note: Path
    bundle: tuple[Path, ...]  # the PDF, or its volumes in order (a round above one volume)
    counted: int
    late: int
    review: int
    quality_problems: list[str] = field(default_factory=list)
    public: tuple[Path, ...] | None = None  # the public note, then its bundle's file or volumes


def assemble(app: App, round_id: str, out_dir: Path | None = None) -> AssembleReport:
    ensure_not_purged(app, round_id)  # a purged round says so and writes no empty note
    out_dir = out_dir or app.settings.out_dir(round_id)
    outputs = output_paths(out_dir, round_id)
    log_path, note_path, bundle_path = outputs.log, outputs.note, outputs.bundle
    absorb_staff_edits(app, round_id, log_path)
    publishing.absorb_public_edits(app, round_id, log_path)
    prepare_placements(app, round_id, log_path)  # the `Afsnit` staff chose, and every new remark placed
    assembly = with_placements(app, build_assembly(app, round_id))
    public = publishing.prepare(app, assembly)
    attach_chain(app, round_id, assembly)  # the log's SHA-256 column; the gate checks the files
    out_dir.mkdir(parents=True, exist_ok=True)
    write_log(assembly, log_path, extra=[public.sheet])
    quality = write_note(assembly, note_path, letterhead=letterhead(app))
    bundle = write_bundle(assembly, bundle_path)
    public_paths = publishing.write_public(app, public, out_dir, letterhead(app))
    with app.uow() as uow:
        uow.events.add(
            round_id,
            "assemble",
            "written",
            log=str(log_path),
            note=str(note_path),
            bundle=[str(path) for path in bundle],
            public=[str(path) for path in public_paths],
            quality=list(quality.problems),
        )
    return AssembleReport(
        log_path,
        note_path,
        bundle,
        len(assembly.on_time),
        len(assembly.late),
        len(assembly.review),
        list(quality.problems),
        public_paths,
    )


def letterhead(app: App) -> Path | None:
    """The note's base document: the configured letterhead, else the shipped one, if present."""
    candidate = app.settings.letterhead or resource("config/letterhead.docx")
    return candidate if candidate.is_file() else None


def absorb_staff_edits(app: App, round_id: str, log_path: Path) -> StaffEdits:
    """Save what staff typed in the log (replies, changes, review decisions) before rewriting it."""
    with app.uow() as uow:
        known_remarks = uow.responses.remark_numbers(round_id)
        known_review = {r.reference for r in uow.responses.review_rows(round_id)}
    known_review |= {line.reference for line in drop_review_lines(app)}  # a decision there is moot
    edits = read_staff_edits(log_path, known_remarks, known_review)
    with app.uow() as uow:
        for number, note in edits.notes.items():
            uow.notes.save(round_id, number, note, app.now())
        for reference, (typed, party_name) in edits.decisions.items():
            _apply_decision(uow, round_id, reference, typed, party_name)
        if edits.notes or edits.decisions:
            uow.events.add(
                round_id,
                "assemble",
                "staff_edits",
                notes=len(edits.notes),
                decisions=len(edits.decisions),
            )
    return edits


def _apply_decision(uow: UnitOfWork, round_id: str, reference: str, typed: str, party_name: str) -> None:
    item = uow.responses.review_item(round_id, reference)
    decision = read_decision(typed)
    if item is None or decision is None:
        return
    party_id = None
    if decision == Decision.INCLUDE and party_name.strip():
        party_id = uow.rounds.find_party(round_id, party_name).id
    uow.responses.decide(item.id, decision, kind_after(decision, item.kind), party_id)
    if decision == Decision.INCLUDE:
        uow.responses.ensure_remark(item, round_id)


def build_assembly(app: App, round_id: str, *, summary: bool = False) -> Assembly:
    """Everything the outputs show; ``summary`` leaves out remarks, attachments and campaign
    grouping (the costly parts) for status views that only count.

    Counted responses are read as plain column tuples, not ORM objects, and their full bodies
    stay in the database. Their texts, and then every line itself, go to a spill file in the
    data folder as they are read (``TextSpill``, ``SpilledLines``): memory per line is 12 bytes.
    """
    spill = TextSpill(app.settings.data_dir / "tmp")
    with app.uow() as uow:
        repo = uow.responses
        rnd = uow.rounds.get(round_id)
        parties = uow.rounds.party_entries(round_id)
        # numbered 1, 2, 3 … as the outputs show them; the stored numbers stay the references
        read = read_counted(uow, round_id, parties, spill, uow.notes.for_round(round_id), summary=summary)
        review: SpilledLines[ReviewLine] = SpilledLines(
            spill, (_review_line(r, parties) for r in repo.review_rows(round_id))
        )
        review.extend(_quarantined(uow, round_id))
        review.extend(drop_review_lines(app))
        party_lines = _party_lines(uow, round_id, parties, read.tallies)
    return Assembly(rnd, app.now(), party_lines, read.responses, read.remarks, review, read.notes)


def _review_line(row: Review, parties: dict[int, PartyEntry]) -> ReviewLine:
    hint = parties[row.party_id].name if row.party_id in parties else ""
    return ReviewLine(
        row.reference,
        row.received_at,
        row.sender or row.sender_display,
        row.subject,
        row.review_reason or "",
        hint,
        row.decision or "",
        hint if row.decision == Decision.INCLUDE else "",
    )


def drop_review_lines(app: App) -> list[ReviewLine]:
    """What is left in the drop folder and why (a link, a folder, a file we may not read)."""
    return [
        ReviewLine(f"drop-{n}", entry.since, "Drop-mappen", entry.name, entry.reason)
        for n, entry in enumerate(left_behind(app.settings.resolved_drop_dir), start=1)
    ]


def _quarantined(uow: UnitOfWork, round_id: str) -> list[ReviewLine]:
    return [
        ReviewLine(
            f"rå-{r.id}", r.received_at, r.source_name, "", f"Beskeden kunne ikke behandles: {r.error}"
        )
        for r in uow.responses.quarantined()
        if r.round_id in (None, round_id)
    ]


def _party_lines(
    uow: UnitOfWork, round_id: str, parties: dict[int, PartyEntry], tallies: dict[int, PartyTally]
) -> list[PartyLine]:
    invited = uow.outbox.first_sent_at(round_id)
    states = {p: set[str](s) for p, s in uow.outbox.invitation_states(round_id).items()}
    lines = []
    for party in parties.values():
        if not party.active:
            continue
        mine = tallies.get(party.id, PartyTally())
        lines.append(
            PartyLine(
                party.name,
                tuple(party.emails),
                invited.get(party.id),
                party_status(mine.responses, mine.with_remarks, states.get(party.id, set())),
                mine.responses,
                mine.latest,
            )
        )
    return sorted(lines, key=lambda p: danish_key(p.name))
