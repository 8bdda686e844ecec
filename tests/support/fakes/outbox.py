"""In-memory OutboxRepository (see flows.adapters.db.outbox)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.adapters.db.outbox import THREAD_PURPOSES
from flows.core.model import OutboxPurpose, OutboxState
from flows.core.outbox import DUE_STATES, Attempt, OutboxItem, OutboxMessage, Waiting


@dataclass
class FakeOutboxRow:
    """One row, with the columns the SQL repository writes."""

    id: int
    item: OutboxItem
    message_id: str
    created_at: datetime
    subject: str = ""
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    possible_duplicate: bool = False
    next_attempt_at: datetime | None = None
    last_code: int | None = None
    last_text: str | None = None
    sent_at: datetime | None = None
    location: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)


class FakeOutboxRepository:
    def __init__(self, party_name: Callable[[int], str] | None = None) -> None:
        self.rows: dict[int, FakeOutboxRow] = {}
        self._by_key: dict[str, int] = {}
        self._party_name = party_name

    def add(self, items: Sequence[OutboxItem], *, domain: str, at: datetime) -> int:
        new = 0
        for item in items:
            if item.dedupe_key in self._by_key:
                continue
            row_id = len(self.rows) + 1
            message_id = f"<{item.purpose.value}.{row_id}@{domain}>"
            self.rows[row_id] = FakeOutboxRow(row_id, item, message_id, at, payload=item.payload())
            self._by_key[item.dedupe_key] = row_id
            new += 1
        return new

    def due(self, round_id: str, purposes: Sequence[OutboxPurpose] | None, now: datetime) -> list[int]:
        return [
            row.id
            for row in self.rows.values()
            if row.item.round_id == round_id
            and row.state in DUE_STATES
            and (row.next_attempt_at is None or row.next_attempt_at <= now)
            and (not purposes or row.item.purpose in purposes)
        ]

    def get(self, outbox_id: int) -> OutboxMessage | None:
        row = self.rows.get(outbox_id)
        if row is None:
            return None
        return OutboxMessage(
            id=row.id,
            round_id=row.item.round_id,
            purpose=row.item.purpose,
            address=row.item.address,
            message_id=row.message_id,
            state=row.state,
            attempts=row.attempts,
            possible_duplicate=row.possible_duplicate,
            payload=row.payload,
            party_id=row.item.party_id,
            location=row.location,
        )

    def mark_sending(self, outbox_id: int, subject: str) -> None:
        row = self.rows[outbox_id]
        if row.state == OutboxState.SENDING:
            row.possible_duplicate = True
        row.subject, row.state = subject, OutboxState.SENDING
        row.attempts += 1

    def record(self, outbox_id: int, attempt: Attempt) -> None:
        row = self.rows[outbox_id]
        row.state, row.next_attempt_at = attempt.state, attempt.next_attempt_at
        row.possible_duplicate = attempt.possible_duplicate
        row.last_code, row.last_text, row.location = attempt.code, attempt.text, attempt.location
        if attempt.sent_at is not None:
            row.sent_at = attempt.sent_at

    def waiting(self, round_id: str, purpose: OutboxPurpose) -> Waiting:
        rows = [r for r in self._of(round_id, purpose) if r.state in DUE_STATES]
        times = [r.next_attempt_at for r in rows if r.next_attempt_at is not None]
        retry_at = min(times) if times and len(times) == len(rows) else None
        return Waiting(len(rows), retry_at, unreached=any(r.last_code is None for r in rows))

    def delivered(self, round_id: str, purpose: OutboxPurpose) -> dict[int, list[tuple[str, str]]]:
        found: dict[int, list[tuple[str, str]]] = {}
        for row in self._of(round_id, purpose):
            if row.state == OutboxState.SENT and row.item.party_id is not None:
                found.setdefault(row.item.party_id, []).append((row.item.address, row.message_id))
        return found

    def invitation_states(self, round_id: str) -> dict[int, set[OutboxState]]:
        states: dict[int, set[OutboxState]] = {}
        for row in self._of(round_id, OutboxPurpose.INVITATION):
            if row.item.party_id is not None:
                states.setdefault(row.item.party_id, set()).add(row.state)
        return states

    def first_sent_at(self, round_id: str) -> dict[int, datetime]:
        first: dict[int, datetime] = {}
        for row in self._of(round_id, OutboxPurpose.INVITATION):
            party_id, sent_at = row.item.party_id, row.sent_at
            if (
                party_id is not None
                and sent_at is not None
                and (party_id not in first or sent_at < first[party_id])
            ):
                first[party_id] = sent_at
        return first

    def invitation_ids_by_party_name(self, round_id: str) -> dict[str, str]:
        assert self._party_name is not None, "FakeOutboxRepository needs the rounds' party names"
        return {
            self._party_name(row.item.party_id): row.message_id
            for row in self._of(round_id, OutboxPurpose.INVITATION)
            if row.item.party_id is not None
        }

    def thread_ids(self) -> list[tuple[str, str, int | None]]:
        return [
            (r.item.round_id, r.message_id, r.item.party_id)
            for r in self.rows.values()
            if r.item.purpose in THREAD_PURPOSES
        ]

    def mark_bounced(self, round_id: str, message_ids: set[str], recipients: set[str]) -> None:
        ids = message_ids | {f"<{i}>" for i in message_ids}
        for r in self.rows.values():
            if r.item.round_id != round_id or r.item.purpose not in THREAD_PURPOSES:
                continue
            if (message_ids and r.message_id in ids) or (not message_ids and r.item.address in recipients):
                r.state = OutboxState.BOUNCED

    def receipts_since(self, since: datetime, senders: set[str]) -> set[str]:
        return {
            r.item.address
            for r in self.rows.values()
            if r.item.address in senders and r.item.purpose == OutboxPurpose.RECEIPT and r.created_at > since
        }

    def states(self, round_id: str) -> list[tuple[str, str]]:
        return [
            (r.item.purpose.value, r.state.value) for r in self.rows.values() if r.item.round_id == round_id
        ]

    def add_sent(
        self,
        round_id: str,
        purpose: OutboxPurpose,
        address: str,
        party_id: int | None,
        *,
        sent_at: datetime | None = None,
    ) -> FakeOutboxRow:
        """For tests: a message that went out before the test starts (an invitation)."""
        row_id = len(self.rows) + 1
        key = f"{purpose.value}:{round_id}:{address}:{row_id}"
        item = OutboxItem(round_id, purpose, address, key, purpose.value, {}, party_id=party_id)
        at = sent_at or datetime(2025, 1, 1, tzinfo=UTC)
        message_id = f"<{row_id}@hoering.invalid>"
        row = FakeOutboxRow(
            row_id, item, message_id, at, state=OutboxState.SENT, sent_at=sent_at, payload=item.payload()
        )
        self.rows[row_id], self._by_key[key] = row, row_id
        return row

    def _of(self, round_id: str, purpose: OutboxPurpose) -> list[FakeOutboxRow]:
        return [r for r in self.rows.values() if r.item.round_id == round_id and r.item.purpose == purpose]

    def of_purpose(self, purpose: OutboxPurpose) -> list[FakeOutboxRow]:
        """For tests: every row of one purpose, in the order queued."""
        return [r for r in self.rows.values() if r.item.purpose == purpose]
