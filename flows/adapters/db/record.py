"""SQL of the public record: the chain behind a response, the case file's rows, the purge.

Functions taking a ``Session``; the services (tracing, exporting, purging) never build SQL.
What they return are plain dataclasses, so a service never holds an ORM row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, case, cast, func, literal, or_, select, update
from sqlalchemy.orm import Session

from flows.adapters.db.tables import (
    AttachmentRow,
    EventRow,
    OutboxRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
    RoundRow,
    StaffNoteRow,
)
from flows.core.model import RawState
from flows.core.retention import RECORD_STEPS, RecordEvent, RoundRecord


@dataclass(frozen=True)
class RawLink:
    """One response and the stored raw message it was parsed from."""

    response_id: int
    number: int
    reference: str
    kind: str
    channel: str
    party: str | None
    matched_by: str | None
    sender: str
    subject: str
    received_at: datetime
    late: bool
    text: str
    full_text: str
    raw_id: int | None
    path: str | None
    sha256: str | None
    size: int | None
    source: str | None
    source_name: str | None
    mailbox: str | None
    uidvalidity: int | None
    uid: int | None
    received_from: str | None


_LINK_COLUMNS = (
    ResponseRow.id,
    ResponseRow.number,
    ResponseRow.reference,
    ResponseRow.kind,
    ResponseRow.channel,
    PartyRow.name,
    ResponseRow.matched_by,
    ResponseRow.sender,
    ResponseRow.subject,
    ResponseRow.received_at,
    ResponseRow.late,
    ResponseRow.text,
    ResponseRow.full_text,
    RawMessageRow.id,
    RawMessageRow.path,
    RawMessageRow.sha256,
    RawMessageRow.size,
    RawMessageRow.source,
    RawMessageRow.source_name,
    RawMessageRow.mailbox,
    RawMessageRow.uidvalidity,
    RawMessageRow.uid,
    RawMessageRow.received_from,
)


def raw_links(session: Session, round_id: str, numbers: Collection[int] | None = None) -> list[RawLink]:
    """The round's responses (those numbered ``numbers``, else all) with their raw messages."""
    query = (
        select(*_LINK_COLUMNS)
        .outerjoin(RawMessageRow, RawMessageRow.id == ResponseRow.raw_message_id)
        .outerjoin(PartyRow, PartyRow.id == ResponseRow.party_id)
        .where(ResponseRow.round_id == round_id)
        .order_by(ResponseRow.received_at, ResponseRow.number)
    )
    rows = [RawLink(*tuple(row)) for row in session.execute(query)]
    if numbers is None:
        return rows
    wanted = set(numbers)
    return [r for r in rows if r.number in wanted]


def stored_files(session: Session, round_id: str) -> dict[int, tuple[str, str]]:
    """Each response number's stored raw message: (sha256, path); the log's ``SHA-256`` column."""
    query = (
        select(ResponseRow.number, RawMessageRow.sha256, RawMessageRow.path)
        .join(RawMessageRow, RawMessageRow.id == ResponseRow.raw_message_id)
        .where(ResponseRow.round_id == round_id)
    )
    return {number: (sha, path) for number, sha, path in session.execute(query)}


def remark_of(session: Session, round_id: str, number: str) -> tuple[int, str] | None:
    """(response number, remark text) of the remark numbered ``number``."""
    row = session.execute(
        select(ResponseRow.number, RemarkRow.text)
        .join(ResponseRow, ResponseRow.id == RemarkRow.response_id)
        .where(RemarkRow.round_id == round_id, RemarkRow.number == number)
    ).first()
    return (int(row[0]), str(row[1])) if row else None


@dataclass(frozen=True)
class AttachmentFile:
    response_id: int
    display_name: str
    content_type: str
    path: str | None
    sha256: str
    status: str


def attachments_of(session: Session, response_ids: Collection[int]) -> list[AttachmentFile]:
    ids = sorted(response_ids)
    found: list[AttachmentFile] = []
    for start in range(0, len(ids), 500):
        query = (
            select(
                AttachmentRow.response_id,
                AttachmentRow.display_name,
                AttachmentRow.content_type,
                AttachmentRow.path,
                AttachmentRow.sha256,
                AttachmentRow.status,
            )
            .where(AttachmentRow.response_id.in_(ids[start : start + 500]))
            .order_by(AttachmentRow.response_id, AttachmentRow.id)
        )
        found += [AttachmentFile(*row) for row in session.execute(query)]
    return found


@dataclass(frozen=True)
class SentMessage:
    id: int
    purpose: str
    party: str | None
    address: str
    subject: str
    message_id: str
    sent_at: datetime
    location: str | None


def sent_messages(session: Session, round_id: str) -> list[SentMessage]:
    """Every message of the round that went out (a bounced one went out too), in sending order."""
    query = (
        select(
            OutboxRow.id,
            OutboxRow.purpose,
            PartyRow.name,
            OutboxRow.address,
            OutboxRow.subject,
            OutboxRow.message_id,
            OutboxRow.sent_at,
            OutboxRow.location,
        )
        .outerjoin(PartyRow, PartyRow.id == OutboxRow.party_id)
        .where(OutboxRow.round_id == round_id, OutboxRow.sent_at.is_not(None))
        .order_by(OutboxRow.sent_at, OutboxRow.id)
    )
    return [SentMessage(*tuple(row)) for row in session.execute(query)]  # type: ignore[arg-type]


def latest_event(
    session: Session, round_id: str, step: str, kind: str
) -> tuple[datetime, dict[str, Any]] | None:
    """(time, detail) of the round's newest event of this step and kind."""
    row = session.execute(
        select(EventRow.at, EventRow.detail)
        .where(EventRow.round_id == round_id, EventRow.step == step, EventRow.kind == kind)
        .order_by(EventRow.id.desc())
        .limit(1)
    ).first()
    return (row[0], dict(row[1] or {})) if row is not None else None


def event_details(session: Session, round_id: str, step: str, kind: str) -> list[dict[str, Any]]:
    query = select(EventRow.detail).where(
        EventRow.round_id == round_id, EventRow.step == step, EventRow.kind == kind
    )
    return [dict(d or {}) for d in session.scalars(query.order_by(EventRow.id))]


# ------------------------------------------------------------------------------ retention


def add_event(
    session: Session, run_id: str, round_id: str, step: str, kind: str, at: datetime, detail: dict[str, Any]
) -> None:
    session.add(EventRow(round_id=round_id, run_id=run_id, step=step, kind=str(kind), at=at, detail=detail))


def round_records(session: Session, round_id: str | None = None) -> list[RoundRecord]:
    """What the purge decides from, for one round or all of them."""
    query = select(RoundRow.id, RoundRow.closed_at, RoundRow.retention, RoundRow.updated_at)
    if round_id is not None:
        query = query.where(RoundRow.id == round_id)
    records = []
    for rid, closed_at, retention, updated_at in session.execute(query.order_by(RoundRow.id)):
        changes = [updated_at, closed_at, _max_event(session, rid, changed=True)]
        changes.append(
            session.scalar(select(func.max(StaffNoteRow.updated_at)).where(StaffNoteRow.round_id == rid))
        )
        records.append(
            RoundRecord(
                round_id=rid,
                closed_at=closed_at,
                retention=retention,
                last_change=max(c for c in changes if c is not None),
                last_export=_max_event(session, rid, kind=RecordEvent.EXPORTED),
                purged_at=_max_event(session, rid, kind=RecordEvent.PURGED),
            )
        )
    return records


def _max_event(
    session: Session, round_id: str, *, changed: bool = False, kind: str | None = None
) -> datetime | None:
    query = select(func.max(EventRow.at)).where(EventRow.round_id == round_id)
    if changed:  # every event of the round but export's and purge's own
        query = query.where(EventRow.step.not_in(RECORD_STEPS))
    if kind is not None:
        query = query.where(EventRow.kind == kind)
    return session.scalar(query)


@dataclass(frozen=True)
class PurgePlan:
    """The files to delete and how much there is, read before anything is deleted."""

    raw_files: list[str]
    attachment_files: list[str]
    outbox_files: list[str]
    counts: dict[str, int]


def purge_plan(session: Session, round_id: str) -> PurgePlan:
    """What a purge of the round deletes. Blobs another round still points at are kept."""
    responses = select(ResponseRow.id).where(ResponseRow.round_id == round_id)
    raw_ids = select(ResponseRow.raw_message_id).where(
        ResponseRow.round_id == round_id, ResponseRow.raw_message_id.is_not(None)
    )
    shared_raw = select(ResponseRow.raw_message_id).where(
        ResponseRow.round_id != round_id, ResponseRow.raw_message_id.is_not(None)
    )
    raws = session.execute(
        select(RawMessageRow.path, RawMessageRow.size, RawMessageRow.id.in_(shared_raw)).where(
            or_(RawMessageRow.round_id == round_id, RawMessageRow.id.in_(raw_ids)),
            RawMessageRow.state != RawState.PURGED.value,
        )
    ).all()
    others = select(AttachmentRow.path).where(
        AttachmentRow.response_id.not_in(responses), AttachmentRow.path.is_not(None)
    )
    attachments = session.execute(
        select(AttachmentRow.path, AttachmentRow.size, AttachmentRow.path.in_(others)).where(
            AttachmentRow.response_id.in_(responses), AttachmentRow.path.is_not(None)
        )
    ).all()
    outbox = session.scalars(
        select(OutboxRow.location).where(OutboxRow.round_id == round_id, OutboxRow.location.is_not(None))
    ).all()
    counts = {
        "raw_messages": len(raws),
        "raw_bytes": sum(int(size or 0) for _, size, _ in raws),
        "attachments": len(attachments),
        "attachment_bytes": sum(int(size or 0) for _, size, _ in attachments),
        "sent_files": len(outbox),
        "responses": session.scalar(select(func.count()).select_from(responses.subquery())) or 0,
        "private_persons": session.scalar(
            select(func.count()).where(PartyRow.round_id == round_id, PartyRow.person.is_(True))
        )
        or 0,
    }
    return PurgePlan(
        raw_files=sorted({p for p, _, shared in raws if p and not shared}),
        attachment_files=sorted({p for p, _, shared in attachments if p and not shared}),
        outbox_files=sorted({p for p in outbox if p}),
        counts=counts,
    )


def erase_round(session: Session, round_id: str) -> None:
    """Null the round's personal data in one statement per table; the rows and counts stay."""
    responses = select(ResponseRow.id).where(ResponseRow.round_id == round_id)
    raw_ids = select(ResponseRow.raw_message_id).where(
        ResponseRow.round_id == round_id, ResponseRow.raw_message_id.is_not(None)
    )
    session.execute(
        update(RawMessageRow)
        .where(or_(RawMessageRow.round_id == round_id, RawMessageRow.id.in_(raw_ids)))
        .values(
            path="",
            state=RawState.PURGED.value,
            error=None,
            # a Maildir file name is kept: it is what stops the same file being collected again
            source_name=_keep_maildir_name(),
        )
    )
    session.execute(
        update(AttachmentRow)
        .where(AttachmentRow.response_id.in_(responses))
        .values(path=None, text="", display_name="")
    )
    session.execute(update(RemarkRow).where(RemarkRow.round_id == round_id).values(text="", proposal=""))
    session.execute(
        update(ResponseRow)
        .where(ResponseRow.round_id == round_id)
        .values(text="", full_text="", sender="", sender_display="", subject="", message_id=None, details={})
    )
    session.execute(
        update(ResponseRow)
        .where(ResponseRow.round_id == round_id, ResponseRow.review_reason.is_not(None))
        .values(review_reason="")  # still "needs review", so the counts stay
    )
    session.execute(update(StaffNoteRow).where(StaffNoteRow.round_id == round_id).values(reply="", change=""))
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.round_id == round_id)
        .values(
            address="",
            location=None,
            last_text=None,
            payload={},
            dedupe_key=literal("slettet:", String).concat(cast(OutboxRow.id, String)),
        )
    )
    session.execute(update(PartyRow).where(PartyRow.round_id == round_id).values(emails=[]))
    # a private person's name is personal data too: "Borger N" by the party's id, unique in the round
    session.execute(
        update(PartyRow)
        .where(PartyRow.round_id == round_id, PartyRow.person.is_(True))
        .values(name=literal("Borger ", String).concat(cast(PartyRow.id, String)))
    )


def _keep_maildir_name() -> Any:
    return case((RawMessageRow.source == "maildir", RawMessageRow.source_name), else_="")
