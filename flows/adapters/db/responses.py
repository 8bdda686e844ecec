"""Raw messages, responses, remarks and attachments: the responses aggregate.

The bulk statements keep the shapes that earned their speed: ingest writes a slice of messages
in a handful of ``executemany`` statements; assemble streams column tuples (never ORM objects)
in pages; status counts in SQL. ``counted_clause`` is the SQL form of ``core.counting``'s rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, true, update
from sqlalchemy.orm import Session

from flows.adapters.db import response_writes
from flows.adapters.db.batches import lock_rounds
from flows.adapters.db.raw_messages import RawMessageRepository, SqlRawMessages
from flows.adapters.db.response_stream import ReceiptRemark, counted_remarks
from flows.adapters.db.tables import AttachmentRow, RemarkRow, ResponseRow, RoundRow
from flows.core.assembly import LazyText
from flows.core.counting import COUNTING, CountingRule
from flows.core.model import Decision, Kind
from flows.core.review import REVIEW_KINDS

# Large reads are streamed in pages (a server-side cursor on PostgreSQL) rather than buffered
# whole by the driver next to the objects built from them.
STREAM_ROWS = 5_000


def counted_clause(rule: CountingRule = COUNTING) -> ColumnElement[bool]:
    """``core.counting.is_counted`` as SQL, read off the same rule (``COUNTING``)."""
    trusted: list[ColumnElement[bool]] = [ResponseRow.party_id.is_not(None)] if rule.needs_party else []
    trusted.append(ResponseRow.verified != rule.untrusted.value)
    if not rule.held_counts:
        trusted.append(ResponseRow.held.is_(False))
    return and_(
        ResponseRow.kind == rule.counted_kind.value,
        or_(ResponseRow.decision.is_(None), ResponseRow.decision != rule.rejected.value),
        or_(ResponseRow.decision == rule.included.value, and_(*trusted) if trusted else true()),
    )


class Review(NamedTuple):
    """The columns a review line shows (a bounce's body holds the whole returned message)."""

    reference: str
    received_at: datetime
    sender: str
    sender_display: str
    subject: str
    review_reason: str | None
    party_id: int | None
    decision: str | None


class Counted(NamedTuple):
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
    full_text: str | LazyText  # the whole body; "" in a summary (status views never show it)


class RemarkRecord(NamedTuple):
    response_id: int
    number: str
    section: str
    text: str
    proposal: str


class ReviewItem(NamedTuple):
    """What a staff decision on one item needs to know of it."""

    id: int
    kind: str
    number: int
    text: str


class PartyCount(NamedTuple):
    party_id: int | None
    late: bool
    responses: int
    with_remarks: int


class ResponseRepository(RawMessageRepository, Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""

    def earlier(self, message_ids: set[str]) -> list[tuple[str, str, int, str]]:
        """(round, Message-ID, id, full text) of responses with these ids, newest number first."""
        ...

    def take_numbers(self, round_id: str, count: int) -> int:
        """Reserve ``count`` consecutive numbers in the round; returns the first."""
        ...

    def lock_rounds(self, round_ids: set[str]) -> None:
        """Hold these rounds' rows to the end of the transaction (parallel batches, PostgreSQL)."""
        ...

    def insert_responses(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert responses; their ids in the order given."""
        ...

    def link_duplicates(self, rows: list[dict[str, Any]]) -> None:
        """``{"id", "duplicate_of"}`` per copy."""
        ...

    def insert_attachments(self, rows: list[dict[str, Any]]) -> None: ...
    def insert_remarks(self, rows: list[dict[str, Any]]) -> None: ...

    def remark_numbers(self, round_id: str) -> set[str]: ...
    def review_rows(self, round_id: str) -> Iterable[Review]:
        """Items with a review reason, of the kinds ``Til gennemsyn`` lists, in receipt order
        (streamed: consume inside the unit of work)."""
        ...

    def review_item(self, round_id: str, reference: str) -> ReviewItem | None: ...
    def decide(self, response_id: int, decision: Decision, kind: str, party_id: int | None) -> None:
        """Record staff's decision; ``party_id`` None keeps the party the item had."""
        ...

    def ensure_remark(self, item: ReviewItem, round_id: str) -> None:
        """An included item without remarks gets its text as remark ``<number>.1``."""
        ...

    def counted(self, round_id: str, *, whole: bool = True) -> Iterator[Counted]:
        """Counted responses in receipt order, streamed (consume inside the unit of work);
        ``whole=False`` leaves the full body out."""
        ...

    def attachment_names(self, response_ids: list[int]) -> dict[int, list[str]]: ...
    def remarks(self, round_id: str) -> Iterator[RemarkRecord]:
        """Every remark of the round, streamed."""
        ...

    def counted_remarks(self, round_id: str) -> Iterator[ReceiptRemark]:
        """Remarks of counted responses in their responses' receipt order, then position, streamed."""
        ...

    def counted_by_party(self, round_id: str) -> list[PartyCount]: ...
    def kind_counts(self, round_id: str) -> dict[str, int]: ...
    def review_count(self, round_id: str) -> int: ...


class SqlResponseRepository(SqlRawMessages):
    def __init__(self, session: Session) -> None:
        self._session = session

    def earlier(self, message_ids: set[str]) -> list[tuple[str, str, int, str]]:
        rows = self._session.execute(
            select(ResponseRow.round_id, ResponseRow.message_id, ResponseRow.id, ResponseRow.full_text)
            .where(ResponseRow.message_id.in_(message_ids), ResponseRow.kind == Kind.RESPONSE.value)
            .order_by(ResponseRow.number.desc())
        )
        return [(r, str(m), int(i), t) for r, m, i, t in rows]

    def lock_rounds(self, round_ids: set[str]) -> None:
        lock_rounds(self._session, round_ids)

    def take_numbers(self, round_id: str, count: int) -> int:
        statement = (
            update(RoundRow)
            .where(RoundRow.id == round_id)
            .values(next_number=RoundRow.next_number + count)
            .returning(RoundRow.next_number)
            .execution_options(synchronize_session=False)
        )
        return int(self._session.execute(statement).scalar_one()) - count

    def insert_responses(self, rows: list[dict[str, Any]]) -> list[int]:
        return response_writes.insert_responses(self._session, rows)

    def link_duplicates(self, rows: list[dict[str, Any]]) -> None:
        response_writes.link_duplicates(self._session, rows)

    def insert_attachments(self, rows: list[dict[str, Any]]) -> None:
        response_writes.insert_attachments(self._session, rows)

    def insert_remarks(self, rows: list[dict[str, Any]]) -> None:
        response_writes.insert_remarks(self._session, rows)

    def remark_numbers(self, round_id: str) -> set[str]:
        return set(self._session.scalars(select(RemarkRow.number).where(RemarkRow.round_id == round_id)))

    def review_rows(self, round_id: str) -> Iterator[Review]:
        # Column tuples, not ORM objects: a national round has hundreds of thousands of these.
        query = (
            select(*(getattr(ResponseRow, name) for name in Review._fields))
            .where(
                ResponseRow.round_id == round_id,
                ResponseRow.review_reason.is_not(None),
                ResponseRow.kind.in_([k.value for k in REVIEW_KINDS]),
            )
            .order_by(ResponseRow.received_at, ResponseRow.number)
            .execution_options(yield_per=STREAM_ROWS)
        )
        return (Review._make(row) for row in self._session.execute(query))

    def review_item(self, round_id: str, reference: str) -> ReviewItem | None:
        row = self._session.scalars(
            select(ResponseRow).where(ResponseRow.round_id == round_id, ResponseRow.reference == reference)
        ).first()
        return ReviewItem(row.id, row.kind, row.number, row.text) if row else None

    def decide(self, response_id: int, decision: Decision, kind: str, party_id: int | None) -> None:
        row = self._session.get_one(ResponseRow, response_id)
        row.decision, row.kind = decision.value, kind
        if party_id is not None:
            row.party_id = party_id

    def ensure_remark(self, item: ReviewItem, round_id: str) -> None:
        exists = self._session.scalar(select(RemarkRow.id).where(RemarkRow.response_id == item.id).limit(1))
        if exists is None and item.text.strip():
            self._session.add(
                RemarkRow(
                    round_id=round_id,
                    response_id=item.id,
                    number=f"{item.number}.1",
                    position=1,
                    section="",
                    text=item.text,
                    proposal="",
                )
            )

    def counted(self, round_id: str, *, whole: bool = True) -> Iterator[Counted]:
        columns = [getattr(ResponseRow, name) for name in Counted._fields]
        if not whole:  # status views count; they never show the body
            columns[-1] = literal("").label("full_text")
        query = (
            select(*columns)
            .where(ResponseRow.round_id == round_id, counted_clause())
            .order_by(ResponseRow.received_at, ResponseRow.number)
            .execution_options(yield_per=STREAM_ROWS)
        )
        return (Counted._make(row) for row in self._session.execute(query))

    def attachment_names(self, response_ids: list[int]) -> dict[int, list[str]]:
        names: dict[int, list[str]] = {}
        for start in range(0, len(response_ids), 500):
            chunk = response_ids[start : start + 500]
            for response_id, display_name in self._session.execute(
                select(AttachmentRow.response_id, AttachmentRow.display_name).where(
                    AttachmentRow.response_id.in_(chunk), AttachmentRow.status != "inline"
                )
            ):
                names.setdefault(response_id, []).append(display_name)
        return names

    def remarks(self, round_id: str) -> Iterator[RemarkRecord]:
        query = select(
            RemarkRow.response_id, RemarkRow.number, RemarkRow.section, RemarkRow.text, RemarkRow.proposal
        ).where(RemarkRow.round_id == round_id)
        query = query.execution_options(yield_per=STREAM_ROWS)
        return (RemarkRecord._make(row) for row in self._session.execute(query))

    def counted_remarks(self, round_id: str) -> Iterator[ReceiptRemark]:
        return counted_remarks(self._session, round_id, counted_clause())

    def counted_by_party(self, round_id: str) -> list[PartyCount]:
        rows = self._session.execute(
            select(
                ResponseRow.party_id,
                ResponseRow.late,
                func.count(),
                func.sum(case((ResponseRow.no_remarks.is_(True), 0), else_=1)),
            )
            .where(ResponseRow.round_id == round_id, counted_clause())
            .group_by(ResponseRow.party_id, ResponseRow.late)
        ).all()
        return [PartyCount(p, bool(late), int(n), int(w or 0)) for p, late, n, w in rows]

    def kind_counts(self, round_id: str) -> dict[str, int]:
        return dict(
            self._session.execute(
                select(ResponseRow.kind, func.count())
                .where(ResponseRow.round_id == round_id)
                .group_by(ResponseRow.kind)
            ).all()
        )

    def review_count(self, round_id: str) -> int:
        flagged = self._session.scalar(
            select(func.count())
            .select_from(ResponseRow)
            .where(
                ResponseRow.round_id == round_id,
                ResponseRow.review_reason.is_not(None),
                ResponseRow.kind.in_([k.value for k in REVIEW_KINDS]),
            )
        )
        return int(flagged or 0)
