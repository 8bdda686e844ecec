"""What collecting, ingesting, assembling and status need of rounds, parties, the outbox and
events, until ``uow.rounds``/``uow.outbox`` offer it (reached as ``uow.responses.round_reads``).

A bridge, kept apart so that it folds into those repositories at merge: rounds are read through
``services.rounds`` as the brief allows; the outbox statements are the ones ingesting and
assembling ran before (``queue_outbox`` is ``services.outbox.queue``'s insert, taking the
service clock and mail domain as values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from flows.adapters.db.outbox import SqlOutboxRepository
from flows.adapters.db.rounds import find_party, get_round, to_round
from flows.adapters.db.tables import EventRow, OutboxRow, PartyRow, RoundRow
from flows.core.model import OutboxPurpose, OutboxState, Party, Round

# The messages a reply may answer (its In-Reply-To), and a bounce may return.
THREAD_PURPOSES = (OutboxPurpose.INVITATION, OutboxPurpose.REMINDER, OutboxPurpose.EXTENSION)


@dataclass(frozen=True, slots=True)
class PartyEntry:
    """A party with whether it is still on the round's list (a removed one keeps its name)."""

    id: int
    round_id: str
    name: str
    emails: tuple[str, ...]
    domains: tuple[str, ...]
    extended_until: datetime | None
    active: bool


class OutboxItem(Protocol):
    """One message to queue (``services.outbox.Queued``)."""

    @property
    def round_id(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def dedupe_key(self) -> str: ...
    @property
    def template(self) -> str: ...
    @property
    def values(self) -> dict[str, str]: ...
    @property
    def party_id(self) -> int | None: ...
    @property
    def response_id(self) -> int | None: ...
    @property
    def template_party(self) -> str | None: ...
    @property
    def in_reply_to(self) -> str | None: ...
    @property
    def auto_submitted(self) -> str: ...


class RoundReads(Protocol):
    def rounds(self) -> dict[str, Round]: ...
    def get_round(self, round_id: str) -> Round: ...
    def parties(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        """Every party (active or not), of one round or of all."""
        ...

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        """An active party by name or address; ``UnknownPartyError`` when none."""
        ...

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]: ...
    def thread_ids(self) -> list[tuple[str, str, int | None]]:
        """(round, Message-ID, party) of every invitation, reminder and extension sent."""
        ...

    def mark_bounced(self, round_id: str, message_ids: set[str], recipients: set[str]) -> None:
        """The invitations a bounce returns: by Message-ID when known, else by recipient."""
        ...

    def receipts_since(self, since: datetime, senders: set[str]) -> set[str]: ...
    def queue_outbox(self, items: Sequence[OutboxItem], mail_domain: str, now: datetime) -> int: ...
    def invitation_states(self, round_id: str) -> dict[int, set[str]]: ...
    def sent_at_by_party(self, round_id: str) -> dict[int, datetime]: ...
    def outbox_states(self, round_id: str) -> list[tuple[str, str]]: ...
    def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Many events in one statement (ingest writes one per message)."""
        ...

    def last_event_at(self, round_id: str, step: str, kind: str) -> datetime | None: ...


class SqlRoundReads:
    def __init__(self, session: Session) -> None:
        self._session = session

    def rounds(self) -> dict[str, Round]:
        return {r.id: to_round(r) for r in self._session.scalars(select(RoundRow))}

    def get_round(self, round_id: str) -> Round:
        return get_round(self._session, round_id)

    def parties(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        query = select(PartyRow)
        if round_id is not None:
            query = query.where(PartyRow.round_id == round_id)
        return {
            p.id: PartyEntry(
                p.id, p.round_id, p.name, tuple(p.emails), tuple(p.domains), p.extended_until, p.active
            )
            for p in self._session.scalars(query)
        }

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        return find_party(self._session, round_id, name_or_address)

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]:
        rows = self._session.execute(
            select(PartyRow.name, PartyRow.extended_until).where(
                PartyRow.round_id == round_id,
                PartyRow.active.is_(True),
                PartyRow.extended_until.is_not(None),
            )
        ).all()
        return [(name, until) for name, until in rows]

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

    def queue_outbox(self, items: Sequence[OutboxItem], mail_domain: str, now: datetime) -> int:
        if not items:
            return 0
        rows = [
            {
                "round_id": item.round_id,
                "party_id": item.party_id,
                "response_id": item.response_id,
                "address": item.address,
                "purpose": item.purpose,
                "dedupe_key": item.dedupe_key,
                "message_id": make_msgid(idstring=item.purpose, domain=mail_domain),
                "subject": "",
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "possible_duplicate": False,
                "created_at": now,
                "payload": {
                    "template": item.template,
                    "values": item.values,
                    "template_party": item.template_party,
                    "in_reply_to": item.in_reply_to,
                    "auto_submitted": item.auto_submitted,
                },
            }
            for item in items
        ]
        session = self._session
        insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, OutboxRow.__table__)
        statement = insert_(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
        return len(session.connection().execute(statement, rows).all())

    # The outbox repository's own statements, not copies of them.
    def invitation_states(self, round_id: str) -> dict[int, set[str]]:
        found = SqlOutboxRepository(self._session).invitation_states(round_id)
        return {party_id: set[str](states) for party_id, states in found.items()}

    def sent_at_by_party(self, round_id: str) -> dict[int, datetime]:
        return SqlOutboxRepository(self._session).first_sent_at(round_id)

    def outbox_states(self, round_id: str) -> list[tuple[str, str]]:
        rows = self._session.execute(
            select(OutboxRow.purpose, OutboxRow.state).where(OutboxRow.round_id == round_id)
        )
        return [(purpose, state) for purpose, state in rows]

    def add_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._session.execute(insert(EventRow), rows)

    def last_event_at(self, round_id: str, step: str, kind: str) -> datetime | None:
        return self._session.scalar(
            select(func.max(EventRow.at)).where(
                EventRow.round_id == round_id, EventRow.step == step, EventRow.kind == kind
            )
        )
