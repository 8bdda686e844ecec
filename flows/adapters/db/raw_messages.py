"""Raw messages: stored bytes, the IMAP cursor, and where each message stands (part of the
responses aggregate; ``SqlResponseRepository`` mixes this in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from flows.adapters.db import response_writes
from flows.adapters.db.tables import ImapCursorRow, RawMessageRow
from flows.adapters.ports import Cursor
from flows.core.model import RawState


@dataclass
class StoredRaw:
    """A stored message waiting to be parsed: where its bytes are, and when it came."""

    id: int
    path: str
    source: str
    name: str
    received_at: datetime
    size: int
    received_from: str = ""
    collected_at: datetime | None = None


@dataclass(frozen=True)
class QuarantinedRaw:
    id: int
    round_id: str | None
    received_at: datetime
    source_name: str
    error: str | None


class RawMessageRepository(Protocol):
    def cursor(self, mailbox: str) -> Cursor | None:
        """How far this mailbox was read, or None before its first batch."""
        ...

    def insert_raw(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert raw message rows, skipping any already stored (same sha256 or IMAP UID); new ids."""
        ...

    def save_cursor(self, cursor: Cursor, now: datetime) -> None: ...

    def pending_raw_ids(self, max_attempts: int, limit: int | None = None) -> list[int]:
        """Stored messages not yet processed and not given up on, oldest first."""
        ...

    def stored(self, raw_ids: list[int]) -> list[StoredRaw]:
        """Those of ``raw_ids`` still waiting (another run may have taken some), oldest first."""
        ...

    def count_failure(self, raw_id: int, error: str) -> int | None:
        """One more failed attempt; its count, or None when the message is no longer waiting."""
        ...

    def quarantine(self, raw_id: int) -> None: ...

    def mark_processed(self, rows: list[dict[str, Any]]) -> None:
        """``{"id", "round_id", "message_id"}`` per message: processed, and where it went."""
        ...

    def quarantined(self) -> list[QuarantinedRaw]: ...

    def quarantined_count(self, round_id: str) -> int:
        """Quarantined messages of this round or of none yet."""
        ...


class SqlRawMessages:
    _session: Session

    def cursor(self, mailbox: str) -> Cursor | None:
        row = self._session.get(ImapCursorRow, mailbox)
        return Cursor(row.mailbox, row.uidvalidity, row.last_uid) if row else None

    def insert_raw(self, rows: list[dict[str, Any]]) -> list[int]:
        # The lead folds this into flows.adapters.db.bulk (one insert-on-conflict helper).
        if not rows:
            return []
        session = self._session
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, RawMessageRow.__table__)
        # Many parameter sets on one cached statement (a multi-row VALUES is compiled per batch).
        statement = insert(table).on_conflict_do_nothing().returning(table.c.id)
        return [int(row_id) for (row_id,) in session.connection().execute(statement, rows).all()]

    def save_cursor(self, cursor: Cursor, now: datetime) -> None:
        row = self._session.get(ImapCursorRow, cursor.mailbox)
        if row is None:
            self._session.add(
                ImapCursorRow(
                    mailbox=cursor.mailbox,
                    uidvalidity=cursor.uidvalidity,
                    last_uid=cursor.last_uid,
                    updated_at=now,
                )
            )
            return
        if row.uidvalidity != cursor.uidvalidity or cursor.last_uid > row.last_uid:
            row.uidvalidity, row.last_uid, row.updated_at = cursor.uidvalidity, cursor.last_uid, now

    def pending_raw_ids(self, max_attempts: int, limit: int | None = None) -> list[int]:
        query = (
            select(RawMessageRow.id)
            .where(RawMessageRow.state == RawState.STORED, RawMessageRow.attempts < max_attempts)
            .order_by(RawMessageRow.received_at, RawMessageRow.id)
        )
        if limit:
            query = query.limit(limit)
        return list(self._session.scalars(query))

    def stored(self, raw_ids: list[int]) -> list[StoredRaw]:
        rows = self._session.execute(
            select(
                RawMessageRow.id,
                RawMessageRow.path,
                RawMessageRow.source,
                RawMessageRow.source_name,
                RawMessageRow.received_at,
                RawMessageRow.size,
                RawMessageRow.received_from,
                RawMessageRow.collected_at,
            )
            .where(RawMessageRow.id.in_(raw_ids), RawMessageRow.state == RawState.STORED)
            .order_by(RawMessageRow.received_at, RawMessageRow.id)
        ).all()
        return [StoredRaw(*row) for row in rows]

    def count_failure(self, raw_id: int, error: str) -> int | None:
        raw = self._session.get(RawMessageRow, raw_id)
        if raw is None or raw.state != RawState.STORED:
            return None
        raw.attempts += 1
        raw.error = error
        return raw.attempts

    def quarantine(self, raw_id: int) -> None:
        raw = self._session.get(RawMessageRow, raw_id)
        if raw is not None:
            raw.state = RawState.QUARANTINED.value

    def mark_processed(self, rows: list[dict[str, Any]]) -> None:
        response_writes.mark_processed(self._session, rows)

    def quarantined(self) -> list[QuarantinedRaw]:
        rows = self._session.scalars(select(RawMessageRow).where(RawMessageRow.state == RawState.QUARANTINED))
        return [QuarantinedRaw(r.id, r.round_id, r.received_at, r.source_name, r.error) for r in rows]

    def quarantined_count(self, round_id: str) -> int:
        count = self._session.scalar(
            select(func.count())
            .select_from(RawMessageRow)
            .where(
                RawMessageRow.state == RawState.QUARANTINED,
                RawMessageRow.round_id.in_([round_id]) | RawMessageRow.round_id.is_(None),
            )
        )
        return int(count or 0)
