"""The outbox: every message we send, one row per purpose and recipient.

A row is committed before its message is sent: ``add`` inserts with the Message-ID made at
insert (a unique ``dedupe_key`` makes a second ``add`` of the same item a no-op), ``mark_sending``
commits the claim before the SMTP conversation, ``record`` what the attempt gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid
from typing import Protocol, cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session

from flows.adapters.db.bulk import insert_new
from flows.adapters.db.tables import OutboxRow, PartyRow
from flows.core.model import OutboxPurpose, OutboxState
from flows.core.outbox import DUE_STATES, Attempt, OutboxItem, OutboxMessage, Waiting

_DUE = [s.value for s in DUE_STATES]

# The messages a reply may answer (its In-Reply-To), and a bounce may return.
THREAD_PURPOSES = (OutboxPurpose.INVITATION, OutboxPurpose.REMINDER, OutboxPurpose.EXTENSION)


class OutboxRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""

    def add(self, items: Sequence[OutboxItem], *, domain: str, at: datetime) -> int:
        """Queue the items not queued before (by ``dedupe_key``); how many were new."""
        ...

    def due(self, round_id: str, purposes: Sequence[OutboxPurpose] | None, now: datetime) -> list[int]:
        """Ids of the round's rows to send now, oldest first."""
        ...

    def get(self, outbox_id: int) -> OutboxMessage | None: ...

    def mark_sending(self, outbox_id: int, subject: str) -> None:
        """Claim a row before sending: one more attempt; a second claim flags a possible duplicate."""
        ...

    def record(self, outbox_id: int, attempt: Attempt) -> None: ...

    def waiting(self, round_id: str, purpose: OutboxPurpose) -> Waiting:
        """How many of the round's messages of this purpose wait for a retry, and when the first may go."""
        ...

    def delivered(self, round_id: str, purpose: OutboxPurpose) -> dict[int, list[tuple[str, str]]]:
        """Per party, the (address, Message-ID) of each message of this purpose that was sent."""
        ...

    def invitation_states(self, round_id: str) -> dict[int, set[OutboxState]]:
        """The states of each party's invitation rows (one per address)."""
        ...

    def first_sent_at(self, round_id: str) -> dict[int, datetime]:
        """When each party's first invitation went out."""
        ...

    def invitation_ids_by_party_name(self, round_id: str) -> dict[str, str]:
        """Party name to the Message-ID of its invitation (the demo answers in its thread)."""
        ...

    def thread_ids(self) -> list[tuple[str, str, int | None]]:
        """(round, Message-ID, party) of every invitation, reminder and extension sent."""
        ...

    def mark_bounced(self, round_id: str, message_ids: set[str], recipients: set[str]) -> None:
        """The invitations a bounce returns: by Message-ID when known, else by recipient."""
        ...

    def receipts_since(self, since: datetime, senders: set[str]) -> set[str]:
        """Which of ``senders`` got a receipt after ``since``."""
        ...

    def states(self, round_id: str) -> list[tuple[str, str]]:
        """(purpose, state) of every row of the round."""
        ...


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
        # Rows read in this transaction, held so a claim after ``get`` finds its row in the
        # session instead of selecting it again (the identity map holds rows only weakly).
        self._seen: dict[int, OutboxRow] = {}

    def add(self, items: Sequence[OutboxItem], *, domain: str, at: datetime) -> int:
        rows = [
            {
                "round_id": item.round_id,
                "party_id": item.party_id,
                "response_id": item.response_id,
                "address": item.address,
                "purpose": item.purpose.value,
                "dedupe_key": item.dedupe_key,
                "message_id": make_msgid(idstring=item.purpose.value, domain=domain),
                "subject": "",
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "possible_duplicate": False,
                "created_at": at,
                "payload": item.payload(),
            }
            for item in items
        ]
        table = cast(Table, OutboxRow.__table__)
        return len(insert_new(self._session, table, rows, unique=["dedupe_key"]))

    def due(self, round_id: str, purposes: Sequence[OutboxPurpose] | None, now: datetime) -> list[int]:
        query = (
            select(OutboxRow.id)
            .where(OutboxRow.round_id == round_id, OutboxRow.state.in_(_DUE))
            .where(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
            .order_by(OutboxRow.id)
        )
        if purposes:
            query = query.where(OutboxRow.purpose.in_([p.value for p in purposes]))
        return list(self._session.scalars(query))

    def get(self, outbox_id: int) -> OutboxMessage | None:
        row = self._session.get(OutboxRow, outbox_id)
        if row is None:
            return None
        self._seen[outbox_id] = row
        return OutboxMessage(
            id=row.id,
            round_id=row.round_id,
            purpose=OutboxPurpose(row.purpose),
            address=row.address,
            message_id=row.message_id,
            state=OutboxState(row.state),
            attempts=row.attempts,
            possible_duplicate=row.possible_duplicate,
            payload=row.payload,
            party_id=row.party_id,
            location=row.location,
        )

    def mark_sending(self, outbox_id: int, subject: str) -> None:
        row = self._row(outbox_id)
        if row.state == OutboxState.SENDING.value:
            row.possible_duplicate = True
        row.subject = subject
        row.state = OutboxState.SENDING.value
        row.attempts += 1

    def record(self, outbox_id: int, attempt: Attempt) -> None:
        row = self._row(outbox_id)
        row.state, row.next_attempt_at = attempt.state.value, attempt.next_attempt_at
        row.possible_duplicate = attempt.possible_duplicate
        row.last_code, row.last_text = attempt.code, attempt.text
        row.location = attempt.location
        if attempt.sent_at is not None:
            row.sent_at = attempt.sent_at

    def waiting(self, round_id: str, purpose: OutboxPurpose) -> Waiting:
        count, unscheduled, earliest, replied = self._session.execute(
            select(
                func.count(),
                func.count() - func.count(OutboxRow.next_attempt_at),
                func.min(OutboxRow.next_attempt_at),
                func.count(OutboxRow.last_code),
            ).where(
                OutboxRow.round_id == round_id,
                OutboxRow.purpose == purpose.value,
                OutboxRow.state.in_(_DUE),
            )
        ).one()
        # min() keeps the column's type, so the time comes back aware (UTC) on SQLite too
        retry_at = None if unscheduled or earliest is None else earliest
        return Waiting(int(count), retry_at, unreached=replied < count)

    def delivered(self, round_id: str, purpose: OutboxPurpose) -> dict[int, list[tuple[str, str]]]:
        rows = self._session.execute(
            select(OutboxRow.party_id, OutboxRow.address, OutboxRow.message_id).where(
                OutboxRow.round_id == round_id,
                OutboxRow.purpose == purpose.value,
                OutboxRow.state == OutboxState.SENT.value,
            )
        )
        found: dict[int, list[tuple[str, str]]] = {}
        for party_id, address, message_id in rows:
            if party_id is not None:
                found.setdefault(party_id, []).append((address, message_id))
        return found

    def invitation_states(self, round_id: str) -> dict[int, set[OutboxState]]:
        states: dict[int, set[OutboxState]] = {}
        for party_id, state in self._session.execute(
            select(OutboxRow.party_id, OutboxRow.state).where(
                OutboxRow.round_id == round_id, OutboxRow.purpose == OutboxPurpose.INVITATION.value
            )
        ):
            if party_id is not None:
                states.setdefault(party_id, set()).add(OutboxState(state))
        return states

    def first_sent_at(self, round_id: str) -> dict[int, datetime]:
        rows = self._session.execute(
            select(OutboxRow.party_id, OutboxRow.sent_at).where(
                OutboxRow.round_id == round_id,
                OutboxRow.purpose == OutboxPurpose.INVITATION.value,
                OutboxRow.sent_at.is_not(None),
            )
        )
        first: dict[int, datetime] = {}
        for party_id, sent_at in rows:
            if (
                party_id is not None
                and sent_at is not None
                and (party_id not in first or sent_at < first[party_id])
            ):
                first[party_id] = sent_at
        return first

    def invitation_ids_by_party_name(self, round_id: str) -> dict[str, str]:
        rows = self._session.execute(
            select(PartyRow.name, OutboxRow.message_id)
            .join(PartyRow, PartyRow.id == OutboxRow.party_id)
            .where(OutboxRow.round_id == round_id, OutboxRow.purpose == OutboxPurpose.INVITATION.value)
        )
        return {name: message_id for name, message_id in rows}

    def thread_ids(self) -> list[tuple[str, str, int | None]]:
        sent = self._session.execute(
            select(OutboxRow.round_id, OutboxRow.message_id, OutboxRow.party_id).where(
                OutboxRow.purpose.in_([p.value for p in THREAD_PURPOSES])
            )
        )
        return [(r, m, p) for r, m, p in sent]

    def mark_bounced(self, round_id: str, message_ids: set[str], recipients: set[str]) -> None:
        # Looked up through indexes, never by reading the round's outbox: a round sends a receipt
        # per response, so that outbox grows with the round and a scan per bounce is quadratic.
        query = select(OutboxRow).where(
            OutboxRow.round_id == round_id, OutboxRow.purpose.in_([p.value for p in THREAD_PURPOSES])
        )
        if message_ids:
            query = query.where(
                OutboxRow.message_id.in_(sorted(message_ids | {f"<{i}>" for i in message_ids}))
            )
        elif recipients:
            query = query.where(OutboxRow.address.in_(sorted(recipients)))
        else:
            return
        for row in self._session.scalars(query):
            row.state = OutboxState.BOUNCED.value

    def receipts_since(self, since: datetime, senders: set[str]) -> set[str]:
        if not senders:
            return set()
        query = select(OutboxRow.address).where(
            OutboxRow.address.in_(sorted(senders)),
            OutboxRow.purpose == OutboxPurpose.RECEIPT.value,
            OutboxRow.created_at > since,
        )
        return set(self._session.scalars(query))

    def states(self, round_id: str) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(OutboxRow.purpose, OutboxRow.state).where(OutboxRow.round_id == round_id)
        )
        return [(purpose, state) for purpose, state in rows]

    def _row(self, outbox_id: int) -> OutboxRow:
        row = self._seen.get(outbox_id) or self._session.get(OutboxRow, outbox_id)
        assert row is not None, outbox_id
        return row
