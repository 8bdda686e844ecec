"""The SQL behind ``services.concluding``: the senders of a round's counted responses
(``uow.conclusion``)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.responses import counted_clause
from flows.adapters.db.tables import OutboxRow, PartyRow, ResponseRow
from flows.core.authresults import Trust
from flows.core.conclusion import CountedSender
from flows.core.model import OutboxPurpose, OutboxState

_FAILED = (OutboxState.BOUNCED.value, OutboxState.PERM_FAILED.value)


class ConclusionRepository(Protocol):
    def counted_senders(self, round_id: str) -> list[CountedSender]:
        """Every counted response's sender (``core.counting``'s rule), in order of receipt."""
        ...


class SqlConclusionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def counted_senders(self, round_id: str) -> list[CountedSender]:
        """Every counted response's sender, in order of receipt (the SQL form of the counting rule)."""
        counted = counted_clause()
        states: dict[int, set[str]] = {}
        failed_addresses: set[str] = set()
        for party_id, address, state in self._session.execute(
            select(OutboxRow.party_id, OutboxRow.address, OutboxRow.state).where(
                OutboxRow.round_id == round_id, OutboxRow.purpose == OutboxPurpose.INVITATION.value
            )
        ):
            if party_id is not None:
                states.setdefault(party_id, set()).add(state)
            if state in _FAILED:
                failed_addresses.add(address.strip().casefold())
        names = dict(
            self._session.execute(
                select(PartyRow.id, PartyRow.name).where(PartyRow.round_id == round_id)
            ).all()
        )
        query = (
            select(ResponseRow.sender, ResponseRow.sender_display, ResponseRow.party_id, ResponseRow.verified)
            .where(ResponseRow.round_id == round_id, counted)
            .order_by(ResponseRow.received_at, ResponseRow.number)
        )
        senders = []
        for sender, display, party_id, verified in self._session.execute(query):
            party_states = states.get(party_id, set()) if party_id is not None else set()
            senders.append(
                CountedSender(
                    address=sender or "",
                    name=(names.get(party_id, "") if party_id is not None else "") or display or sender or "",
                    party_id=party_id,
                    trust=Trust(verified) if verified in set(Trust) else Trust.NONE,
                    invitation_bounced=(sender or "").strip().casefold() in failed_addresses,
                    party_undelivered=bool(party_states) and party_states <= set(_FAILED),
                )
            )
        return senders
