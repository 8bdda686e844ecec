"""The public record: the chain behind a response, the case file's rows, the purge.

``RecordRepository`` is what the services (chain, tracing, exporting, purging) are typed
against, as ``uow.records``; ``SqlRecordRepository`` is its SQL. The purge's own statements are
in ``record_purge``. What they return are plain dataclasses, so a service never holds an ORM row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db import record_purge
from flows.adapters.db.record_purge import PurgePlan
from flows.adapters.db.response_stream import STREAM_ROWS
from flows.adapters.db.responses import counted_clause
from flows.adapters.db.tables import (
    AttachmentRow,
    EventRow,
    OutboxRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
)
from flows.core.retention import RoundRecord

__all__ = [
    "AttachmentFile",
    "PurgePlan",
    "RawLink",
    "RecordRepository",
    "SentMessage",
    "SqlRecordRepository",
    "StoredFile",
]


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


class StoredFile(NamedTuple):
    """A counted response's stored raw message, keyed by the response's stable reference."""

    reference: str
    received_at: datetime
    sha256: str | None  # None: no raw message is on record (a response staff typed in)
    path: str | None


def counted_files(session: Session, round_id: str) -> Iterator[StoredFile]:
    """Each counted response's stored raw message, in receipt order (the order ``assemble`` reads
    and numbers the responses in), streamed: the log's ``SHA-256`` column and the chain's files."""
    query = (
        select(ResponseRow.reference, ResponseRow.received_at, RawMessageRow.sha256, RawMessageRow.path)
        .outerjoin(RawMessageRow, RawMessageRow.id == ResponseRow.raw_message_id)
        .where(ResponseRow.round_id == round_id, counted_clause())
        .order_by(ResponseRow.received_at, ResponseRow.number)
        .execution_options(yield_per=STREAM_ROWS)
    )
    return (StoredFile._make(row) for row in session.execute(query))


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


# ------------------------------------------------------------------------------ the repository


class RecordRepository(Protocol):
    """What the public-record services ask: the chain, the case file's rows, the purge."""

    def raw_links(self, round_id: str, numbers: Collection[int] | None = None) -> list[RawLink]:
        """The round's responses (those numbered ``numbers``, else all) with their raw messages,
        in receipt order."""
        ...

    def counted_files(self, round_id: str) -> Iterator[StoredFile]:
        """Each counted response's stored raw message, in receipt order, streamed (consume inside
        the unit of work)."""
        ...

    def remark_of(self, round_id: str, number: str) -> tuple[int, str] | None:
        """(response number, remark text) of the remark numbered ``number``."""
        ...

    def attachments_of(self, response_ids: Collection[int]) -> list[AttachmentFile]: ...

    def sent_messages(self, round_id: str) -> list[SentMessage]:
        """Every message of the round that went out, in sending order."""
        ...

    def latest_event(self, round_id: str, step: str, kind: str) -> tuple[datetime, dict[str, Any]] | None:
        """(time, detail) of the round's newest event of this step and kind."""
        ...

    def event_details(self, round_id: str, step: str, kind: str) -> list[dict[str, Any]]:
        """The details of the round's events of this step and kind, oldest first."""
        ...

    def round_records(self, round_id: str | None = None) -> list[RoundRecord]:
        """What the purge decides from, for one round or all of them."""
        ...

    def purge_plan(self, round_id: str) -> PurgePlan:
        """What a purge of the round deletes; blobs another round still points at are kept."""
        ...

    def erase_round(self, round_id: str) -> None:
        """Blank the round's personal data; the rows and counts stay."""
        ...


class SqlRecordRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def raw_links(self, round_id: str, numbers: Collection[int] | None = None) -> list[RawLink]:
        return raw_links(self._session, round_id, numbers)

    def counted_files(self, round_id: str) -> Iterator[StoredFile]:
        return counted_files(self._session, round_id)

    def remark_of(self, round_id: str, number: str) -> tuple[int, str] | None:
        return remark_of(self._session, round_id, number)

    def attachments_of(self, response_ids: Collection[int]) -> list[AttachmentFile]:
        return attachments_of(self._session, response_ids)

    def sent_messages(self, round_id: str) -> list[SentMessage]:
        return sent_messages(self._session, round_id)

    def latest_event(self, round_id: str, step: str, kind: str) -> tuple[datetime, dict[str, Any]] | None:
        return latest_event(self._session, round_id, step, kind)

    def event_details(self, round_id: str, step: str, kind: str) -> list[dict[str, Any]]:
        return event_details(self._session, round_id, step, kind)

    def round_records(self, round_id: str | None = None) -> list[RoundRecord]:
        return record_purge.round_records(self._session, round_id)

    def purge_plan(self, round_id: str) -> PurgePlan:
        return record_purge.purge_plan(self._session, round_id)

    def erase_round(self, round_id: str) -> None:
        # looked up on the module at each call, so the purge's crash test can wrap it
        record_purge.erase_round(self._session, round_id)
