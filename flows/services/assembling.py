"""Assemble: read back what staff typed, then write the log, the note and the bundle.

Staff edits are read first and saved in the database; if the log cannot be matched nothing is
written at all, so what a person typed is never lost.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, literal, or_, select
from sqlalchemy.orm import Session

from flows.adapters.db.outbox import invitation_states, sent_at_by_party
from flows.adapters.db.rounds import find_party, get_round
from flows.adapters.db.tables import (
    AttachmentRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
    StaffNoteRow,
)
from flows.adapters.drop_source import left_behind
from flows.adapters.excel_log import read_staff_edits, write_log
from flows.adapters.pdf_bundle import write_bundle
from flows.adapters.text_spill import TextsById, TextSpill
from flows.adapters.word_note import write_note
from flows.bootstrap import App
from flows.core.assembly import (
    Assembly,
    LazyText,
    PartyLine,
    RemarkLine,
    ResponseLine,
    ReviewLine,
    StaffEdits,
    StaffNote,
)
from flows.core.campaigns import group_campaigns
from flows.core.danish import danish_key
from flows.core.model import Channel, Kind, OutboxState, PartyStatus
from flows.core.numbering import renumber
from flows.core.outputs import output_paths
from flows.resources import resource
from flows.services import publishing
from flows.services.chain import attach_chain
from flows.services.placing import prepare_placements, with_placements
from flows.services.purging import ensure_not_purged

REVIEW_KINDS = (Kind.RESPONSE.value, Kind.BOUNCE.value, Kind.AUTO_REPLY.value, Kind.UNREADABLE.value)


@dataclass
class AssembleReport:
    log: Path
    note: Path
    bundle: Path
    counted: int
    late: int
    review: int
    quality_problems: list[str] = field(default_factory=list)
    public: tuple[Path, Path] | None = None  # the public note and bundle


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
    write_bundle(assembly, bundle_path)
    public_paths = publishing.write_public(app, public, out_dir, letterhead(app))
    with app.db.transaction() as session:
        app.event(
            session,
            round_id,
            "assemble",
            "written",
            log=str(log_path),
            note=str(note_path),
            bundle=str(bundle_path),
            public=[str(path) for path in public_paths or ()],
            quality=list(quality.problems),
        )
    return AssembleReport(
        log_path,
        note_path,
        bundle_path,
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
    with app.db.transaction() as session:
        known_remarks = set(session.scalars(select(RemarkRow.number).where(RemarkRow.round_id == round_id)))
        known_review = {r.reference for r in _review_rows(session, round_id)}
    known_review |= {line.reference for line in drop_review_lines(app)}  # a decision there is moot
    edits = read_staff_edits(log_path, known_remarks, known_review)
    with app.db.transaction() as session:
        for number, note in edits.notes.items():
            row = session.get(StaffNoteRow, (round_id, number)) or StaffNoteRow(
                round_id=round_id, remark_number=number
            )
            row.reply, row.change, row.gives_change = note.reply, note.change, note.gives_change
            row.updated_at = app.now()
            session.add(row)
        for reference, (decision, party_name) in edits.decisions.items():
            _apply_decision(session, round_id, reference, decision, party_name)
        if edits.notes or edits.decisions:
            app.event(
                session,
                round_id,
                "assemble",
                "staff_edits",
                notes=len(edits.notes),
                decisions=len(edits.decisions),
            )
    return edits


def _apply_decision(session: Session, round_id: str, reference: str, decision: str, party_name: str) -> None:
    row = session.scalars(
        select(ResponseRow).where(ResponseRow.round_id == round_id, ResponseRow.reference == reference)
    ).first()
    if row is None:
        return
    choice = decision.strip().capitalize()
    if choice not in {"Medtag", "Afvis"}:
        return
    row.decision = choice
    if choice == "Medtag":
        if party_name.strip():
            row.party_id = find_party(session, round_id, party_name).id
        if row.kind in {Kind.BOUNCE.value, Kind.AUTO_REPLY.value, Kind.UNREADABLE.value}:
            row.kind = Kind.RESPONSE.value
        _ensure_remark(session, row)


def _ensure_remark(session: Session, row: ResponseRow) -> None:
    exists = session.scalar(select(RemarkRow.id).where(RemarkRow.response_id == row.id).limit(1))
    if exists is None and row.text.strip():
        session.add(
            RemarkRow(
                round_id=row.round_id,
                response_id=row.id,
                number=f"{row.number}.1",
                position=1,
                section="",
                text=row.text,
                proposal="",
            )
        )


def is_counted(row: ResponseRow) -> bool:
    """A response counts when its party is known, its sender not unverified and it is not held,
    or staff said so."""
    if row.kind != Kind.RESPONSE.value or row.decision == "Afvis":
        return False
    if row.decision == "Medtag":
        return True
    return row.party_id is not None and row.verified != "fail" and not row.held


# Large reads are streamed in pages (a server-side cursor on PostgreSQL) rather than buffered
# whole by the driver next to the objects built from them.
STREAM_ROWS = 5_000


class _Review(NamedTuple):
    """The columns a review line shows (a bounce's body holds the whole returned message)."""

    reference: str
    received_at: datetime
    sender: str
    sender_display: str
    subject: str
    review_reason: str | None
    party_id: int | None
    decision: str | None


def _review_rows(session: Session, round_id: str) -> list[_Review]:
    # Column tuples, not ORM objects: a national round has hundreds of thousands of these.
    query = (
        select(*(getattr(ResponseRow, name) for name in _Review._fields))
        .where(
            ResponseRow.round_id == round_id,
            ResponseRow.review_reason.is_not(None),
            ResponseRow.kind.in_(REVIEW_KINDS),
        )
        .order_by(ResponseRow.received_at, ResponseRow.number)
        .execution_options(yield_per=STREAM_ROWS)
    )
    return [_Review._make(row) for row in session.execute(query)]


class _Counted(NamedTuple):
    """The columns of a counted response the outputs show (the full body only where the trim
    shortened it, and never for a summary)."""

    id: int
    number: int
    reference: str
    party_id: int | None
    sender: str
    sender_display: str
    received_at: datetime
    channel: str
    late: bool
    subject: str
    text: str | LazyText
    no_remarks: bool
    full_text: str | LazyText  # the whole body, spilled only where the trim left something out


def build_assembly(app: App, round_id: str, *, summary: bool = False) -> Assembly:
    """Everything the outputs show; ``summary`` leaves out remarks, attachments and campaign
    grouping (the costly parts) for status views that only count.

    Counted responses are read as plain column tuples, not ORM objects, and their full bodies
    stay in the database. Their shown texts and the remarks' texts go to a spill file in the data
    folder as they are read (``TextSpill``): memory per response is a few fields and a handle.
    """
    spill = TextSpill(app.settings.data_dir / "tmp")
    with app.db.transaction() as session:
        rnd = get_round(session, round_id)
        parties = {p.id: p for p in session.scalars(select(PartyRow).where(PartyRow.round_id == round_id))}
        counted = _counted(session, round_id, spill, whole=not summary)
        attachments = {} if summary else _attachment_names(session, [r.id for r in counted])
        campaigns = {} if summary else group_campaigns(_texts(counted))
        responses = _response_lines(counted, parties, attachments, campaigns)
        remarks = [] if summary else _remark_lines(session, round_id, counted, parties, spill)
        review = [_review_line(r, parties) for r in _review_rows(session, round_id)]
        review.extend(_quarantined(session, round_id))
        review.extend(drop_review_lines(app))
        notes = {
            n.remark_number: StaffNote(n.reply, n.change, n.gives_change)
            for n in session.scalars(select(StaffNoteRow).where(StaffNoteRow.round_id == round_id))
        }
        party_lines = _party_lines(session, round_id, parties, counted)
    # the outputs number the counted responses 1, 2, 3 …; the stored numbers stay the references
    return renumber(Assembly(rnd, app.now(), party_lines, responses, remarks, review, notes))


def _counted(session: Session, round_id: str, spill: TextSpill, *, whole: bool = True) -> list[_Counted]:
    columns = [getattr(ResponseRow, name) for name in _Counted._fields]
    if not whole:  # status views count; they never show the body
        columns[-1] = literal("").label("full_text")
    query = (
        select(*columns)
        .where(ResponseRow.round_id == round_id, counted_clause())
        .order_by(ResponseRow.received_at, ResponseRow.number)
        .execution_options(yield_per=STREAM_ROWS)
    )
    return [
        _Counted._make(row)._replace(
            text=spill.put(row.text), full_text=_whole(spill, row.full_text, row.text)
        )
        for row in session.execute(query)
    ]


def _whole(spill: TextSpill, full_text: str, text: str) -> str | LazyText:
    return spill.put(full_text) if full_text.strip() and full_text.strip() != text.strip() else ""


def _texts(counted: list[_Counted]) -> TextsById:
    """What campaign grouping compares: the texts of counted responses with remarks."""
    return TextsById({r.id: r.text for r in counted if not r.no_remarks})


def _attachment_names(session: Session, response_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = {}
    for start in range(0, len(response_ids), 500):
        chunk = response_ids[start : start + 500]
        for response_id, display_name in session.execute(
            select(AttachmentRow.response_id, AttachmentRow.display_name).where(
                AttachmentRow.response_id.in_(chunk), AttachmentRow.status != "inline"
            )
        ):
            names.setdefault(response_id, []).append(display_name)
    return names


def _response_lines(
    counted: list[_Counted],
    parties: dict[int, PartyRow],
    attachments: dict[int, list[str]],
    campaigns: dict[int, str],
) -> list[ResponseLine]:
    members: dict[str, list[_Counted]] = {}
    for row in counted:
        if row.id in campaigns:
            members.setdefault(campaigns[row.id], []).append(row)
    # One tuple of names per campaign, shared by its members: a campaign of k responses must
    # cost k names, not k × k.
    names = {key: tuple(_party_name(m, parties) for m in group) for key, group in members.items()}
    lines = []
    for row in counted:
        key = campaigns.get(row.id)
        lines.append(
            ResponseLine(
                number=row.number,
                reference=row.reference,
                party=_party_name(row, parties),
                sender=row.sender,
                received_at=row.received_at,
                channel=Channel(row.channel),
                late=row.late,
                subject=row.subject,
                content=row.text,
                full_content=row.full_text,
                attachments=tuple(attachments.get(row.id, [])),
                no_remarks=row.no_remarks,
                campaign=key,
                campaign_size=len(members[key]) if key else 1,
                campaign_parties=names[key] if key else (),
            )
        )
    return lines


def _party_name(row: _Counted | ResponseRow, parties: dict[int, PartyRow]) -> str:
    party = parties.get(row.party_id) if row.party_id is not None else None
    return party.name if party else (row.sender_display or row.sender or "Ukendt afsender")


def _remark_lines(
    session: Session, round_id: str, counted: list[_Counted], parties: dict[int, PartyRow], spill: TextSpill
) -> list[RemarkLine]:
    by_response = {r.id: r for r in counted}
    query = select(
        RemarkRow.response_id, RemarkRow.number, RemarkRow.section, RemarkRow.text, RemarkRow.proposal
    ).where(RemarkRow.round_id == round_id)
    query = query.execution_options(yield_per=STREAM_ROWS)
    lines = []
    for response_id, number, section, text, proposal in session.execute(query):
        response = by_response.get(response_id)
        if response is None:
            continue
        lines.append(
            RemarkLine(
                number,
                response.number,
                _party_name(response, parties),
                sys.intern(section),  # a template's headings repeat in every answer
                spill.put(text),
                proposal,
                response.late,
            )
        )
    order = {r.number: i for i, r in enumerate(counted)}
    lines.sort(key=lambda m: (order[m.response_number], int(m.number.split(".")[1])))
    return lines


def _review_line(row: _Review, parties: dict[int, PartyRow]) -> ReviewLine:
    hint = parties[row.party_id].name if row.party_id in parties else ""
    return ReviewLine(
        row.reference,
        row.received_at,
        row.sender or row.sender_display,
        row.subject,
        row.review_reason or "",
        hint,
        row.decision or "",
        hint if row.decision == "Medtag" else "",
    )


def drop_review_lines(app: App) -> list[ReviewLine]:
    """What is left in the drop folder and why (a link, a folder, a file we may not read)."""
    return [
        ReviewLine(f"drop-{n}", entry.since, "Drop-mappen", entry.name, entry.reason)
        for n, entry in enumerate(left_behind(app.settings.resolved_drop_dir), start=1)
    ]


def _quarantined(session: Session, round_id: str) -> list[ReviewLine]:
    rows = session.scalars(select(RawMessageRow).where(RawMessageRow.state == "quarantined"))
    return [
        ReviewLine(
            f"rå-{r.id}", r.received_at, r.source_name, "", f"Beskeden kunne ikke behandles: {r.error}"
        )
        for r in rows
        if r.round_id in (None, round_id)
    ]


def _party_lines(
    session: Session, round_id: str, parties: dict[int, PartyRow], counted: list[_Counted]
) -> list[PartyLine]:

    invited = sent_at_by_party(session, round_id)
    states = invitation_states(session, round_id)
    own: dict[int, list[_Counted]] = {}
    for row in counted:
        if row.party_id is not None:
            own.setdefault(row.party_id, []).append(row)
    lines = []
    for party in parties.values():
        if not party.active:
            continue
        mine = own.get(party.id, [])
        lines.append(
            PartyLine(
                party.name,
                tuple(party.emails),
                invited.get(party.id),
                _status(mine, states.get(party.id, set())),
                len(mine),
                max((r.received_at for r in mine), default=None),
            )
        )
    return sorted(lines, key=lambda p: danish_key(p.name))


def _status(own: list[_Counted], invitation_states: set[str]) -> PartyStatus:
    with_remarks = sum(1 for r in own if not r.no_remarks)
    return party_status(len(own), with_remarks, invitation_states)


def party_status(counted: int, with_remarks: int, invitation_states: set[str]) -> PartyStatus:
    """The tick-list status of one party, from its counted responses and its invitations."""
    if counted:
        return PartyStatus.ANSWERED if with_remarks else PartyStatus.NO_REMARKS
    failed = {OutboxState.BOUNCED.value, OutboxState.PERM_FAILED.value}
    if invitation_states and invitation_states <= failed:
        return PartyStatus.UNDELIVERED
    return PartyStatus.NOT_ANSWERED


def counted_clause() -> ColumnElement[bool]:
    """``is_counted`` as SQL, for counts that must not load every response (status, artifacts)."""
    return and_(
        ResponseRow.kind == Kind.RESPONSE.value,
        or_(ResponseRow.decision.is_(None), ResponseRow.decision != "Afvis"),
        or_(
            ResponseRow.decision == "Medtag",
            and_(
                ResponseRow.party_id.is_not(None),
                ResponseRow.verified != "fail",
                ResponseRow.held.is_(False),
            ),
        ),
    )
