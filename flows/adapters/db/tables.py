"""The schema: SQLAlchemy 2 models. Alembic migrations under ``sql/`` create exactly these.

Unique keys carry idempotency: a rerun of any step inserts nothing it inserted before.
Times are stored as UTC and come back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime reached the database"
            raise ValueError(msg)
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class RoundRow(Base):
    __tablename__ = "rounds"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    administration: Mapped[str] = mapped_column(Text)
    consulted_body: Mapped[str] = mapped_column(Text)
    opens: Mapped[datetime]
    deadline: Mapped[datetime]
    reply_to: Mapped[str] = mapped_column(String(320))
    contact: Mapped[str | None] = mapped_column(String(320))
    documents: Mapped[list[str]] = mapped_column(JSON)
    reminders: Mapped[list[str]] = mapped_column(JSON)
    late_policy: Mapped[str] = mapped_column(String(16))
    source_dir: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(64))
    next_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    note_layout: Mapped[str] = mapped_column(String(16), default="by_party", server_default="by_party")
    kle: Mapped[str | None] = mapped_column(String(16))
    facet: Mapped[str | None] = mapped_column(String(8))
    retention: Mapped[str] = mapped_column(String(32), default="P5Y", server_default="P5Y")


class PartyRow(Base):
    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("round_id", "name", name="uq_parties_round_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    emails: Mapped[list[str]] = mapped_column(JSON)
    domains: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    extended_until: Mapped[datetime | None]
    person: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OutboxRow(Base):
    """One message to one recipient: invitation, reminder, receipt, notice.

    The Message-ID is generated and committed before any file is written or SMTP is spoken.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_address", "address", "purpose"),
        Index("ix_outbox_purpose", "purpose", "round_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    response_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(320))
    purpose: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(400), unique=True)
    message_id: Mapped[str] = mapped_column(String(400), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    possible_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None]
    last_code: Mapped[int | None] = mapped_column(Integer)
    last_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    location: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RawMessageRow(Base):
    """Bytes exactly as received, stored before anything parses them."""

    __tablename__ = "raw_messages"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid", name="uq_raw_imap_uid"),
        Index("ix_raw_messages_message_id", "message_id"),
        Index("ix_raw_messages_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    path: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    source_name: Mapped[str] = mapped_column(Text)
    mailbox: Mapped[str | None] = mapped_column(String(400))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime]
    received_from: Mapped[str] = mapped_column(String(32))
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    round_id: Mapped[str | None] = mapped_column(String(80))
    message_id: Mapped[str | None] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(16), default="stored")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ImapCursorRow(Base):
    __tablename__ = "imap_cursors"

    mailbox: Mapped[str] = mapped_column(String(400), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ResponseRow(Base):
    """Every incoming item of a round, classified; only kind='response' is counted."""

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("round_id", "raw_message_id", name="uq_responses_raw"),
        UniqueConstraint("round_id", "number", name="uq_responses_number"),
        Index("ix_responses_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    raw_message_id: Mapped[int | None] = mapped_column(ForeignKey("raw_messages.id"))
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))
    matched_by: Mapped[str | None] = mapped_column(String(32))
    sender: Mapped[str] = mapped_column(String(400))
    sender_display: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(400))
    received_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    full_text: Mapped[str] = mapped_column(Text, default="")
    no_remarks: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[str] = mapped_column(String(16), default="none")
    # kept and listed in Til gennemsyn, but not counted until staff decide (Medtag): mail from
    # our own address without our loop header, a receipt time before the round opened or in
    # the future. The reason is in review_reason.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    review_reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    campaign_key: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AttachmentRow(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")


class RemarkRow(Base):
    __tablename__ = "remarks"
    __table_args__ = (UniqueConstraint("round_id", "number", name="uq_remarks_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    proposal: Mapped[str] = mapped_column(Text, default="")


class StaffNoteRow(Base):
    """What staff typed in the log, kept so that no later assemble can lose it."""

    __tablename__ = "staff_notes"

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    remark_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    change: Mapped[str] = mapped_column(Text, default="")
    gives_change: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventRow(Base):
    """What happened, when, by which run."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str | None] = mapped_column(String(80), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    run_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CollectLeaseRow(Base):
    """Who may collect now: one row per lease, taken atomically, renewed while it runs.

    A holder that dies (SIGKILL, OOM) stops renewing, so its lease runs out on its own.
    """

    __tablename__ = "collect_leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    round_id: Mapped[str | None] = mapped_column(String(80))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PublicationDecisionRow(Base):
    """What staff decided in the log's ``Offentliggørelse`` sheet, kept across every assemble:
    ``Vis`` on a find (show it after all) or a text of their own to hide (``Skjul``)."""

    __tablename__ = "publication_decisions"
    __table_args__ = (UniqueConstraint("round_id", "place", "found", name="uq_publication_decision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    place: Mapped[str] = mapped_column(Text)
    found: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    replacement: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    added: Mapped[bool] = mapped_column(Boolean, default=False)  # a row staff typed in themselves
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DraftSectionRow(Base):
    """One section of the round's documents, read when the round is opened (draft's order)."""

    __tablename__ = "draft_sections"
    __table_args__ = (UniqueConstraint("round_id", "position", name="uq_draft_sections_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[str] = mapped_column(String(32), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[int] = mapped_column(Integer, default=1)
    page: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")


class RemarkPlacementRow(Base):
    """Where a remark was placed in the draft (its `Afsnit`) and how; staff's choice wins."""

    __tablename__ = "remark_placements"

    round_id: Mapped[str] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    remark_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    section_position: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(16))
    evidence: Mapped[str] = mapped_column(Text, default="")  # the reference, the score, staff's label
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
