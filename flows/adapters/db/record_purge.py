"""SQL of the purge: what it decides from, what it deletes, and the nulling of the columns.

Functions taking a ``Session``, called by ``record.SqlRecordRepository``; the purge service
(``flows.services.purging``) reaches them only through ``uow.records``.
"""

from __future__ import annotations

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
