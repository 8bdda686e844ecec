"""Rounds and their parties: read back as ``flows.core.model`` objects, written from a round file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import PartyRow, ResponseRow, RoundRow
from flows.core.errors import UnknownRoundError
from flows.core.model import Kind, LatePolicy, NoteLayout, Party, Round, RoundSpec, named_party


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


class RoundRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""

    def get(self, round_id: str) -> Round:
        """The round; ``UnknownRoundError`` when there is none."""
        ...

    def find(self, round_id: str) -> Round | None: ...

    def all(self) -> list[Round]:
        """Every round of this installation, open or closed."""
        ...

    def digest(self, round_id: str) -> str | None:
        """The SHA-256 of the round file the round was last opened from (None: no such round)."""
        ...

    def save(self, spec: RoundSpec, digest: str, *, at: datetime) -> None:
        """Create or update the round from its file; parties added, updated or deactivated."""
        ...

    def mark_closed(self, round_id: str, at: datetime) -> None: ...

    def active_parties(self, round_id: str) -> list[Party]:
        """The parties the round file names now, in its order."""
        ...

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        """A party by its exact name (case-insensitive) or one of its addresses."""
        ...

    def extend(self, party_id: int, until: datetime) -> None:
        """Give one party its own deadline."""
        ...

    def answered_party_ids(self, round_id: str) -> set[int]:
        """The parties of the round with at least one counted response."""
        ...

    def party_entries(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        """Every party (active or not), of one round or of all."""
        ...

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]:
        """The active parties with a deadline of their own: (name, until)."""
        ...


class SqlRoundRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, round_id: str) -> Round:
        return to_round(self._row(round_id))

    def find(self, round_id: str) -> Round | None:
        row = self._session.get(RoundRow, round_id)
        return None if row is None else to_round(row)

    def all(self) -> list[Round]:
        return [to_round(row) for row in self._session.scalars(select(RoundRow).order_by(RoundRow.id))]

    def digest(self, round_id: str) -> str | None:
        row = self._session.get(RoundRow, round_id)
        return None if row is None else row.spec_sha256

    def save(self, spec: RoundSpec, digest: str, *, at: datetime) -> None:
        row = self._session.get(RoundRow, spec.id) or RoundRow(id=spec.id)
        row.title, row.subject = spec.title, spec.subject
        row.administration, row.consulted_body = spec.administration, spec.consulted_body
        row.opens, row.deadline = spec.opens, spec.deadline
        row.reply_to, row.contact = spec.reply_to, spec.contact
        row.documents, row.reminders = list(spec.documents), list(spec.reminders)
        row.late_policy, row.source_dir = spec.late_policy.value, spec.source_dir
        row.note_layout, row.kle, row.facet = spec.note_layout.value, spec.kle, spec.facet
        row.retention = spec.retention
        row.spec_sha256 = digest
        row.updated_at = at
        self._session.add(row)
        self._session.flush()
        self._sync_parties(spec)

    def _sync_parties(self, spec: RoundSpec) -> None:
        """Add new parties, update changed ones, deactivate dropped ones (never delete history)."""
        existing = {
            p.name: p for p in self._session.scalars(select(PartyRow).where(PartyRow.round_id == spec.id))
        }
        for position, party in enumerate(spec.parties):
            row = existing.pop(party.name, None) or PartyRow(round_id=spec.id, name=party.name)
            row.emails, row.domains = list(party.emails), list(party.domains)
            row.position, row.active, row.person = position, True, party.person
            self._session.add(row)
        for row in existing.values():
            row.active = False

    def mark_closed(self, round_id: str, at: datetime) -> None:
        self._row(round_id).closed_at = at

    def active_parties(self, round_id: str) -> list[Party]:
        rows = self._session.scalars(
            select(PartyRow)
            .where(PartyRow.round_id == round_id, PartyRow.active.is_(True))
            .order_by(PartyRow.position)
        )
        return [to_party(r) for r in rows]

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        return named_party(self.active_parties(round_id), round_id, name_or_address)

    def extend(self, party_id: int, until: datetime) -> None:
        row = self._session.get(PartyRow, party_id)
        assert row is not None
        row.extended_until = until

    def answered_party_ids(self, round_id: str) -> set[int]:
        rows = self._session.scalars(
            select(ResponseRow.party_id).where(
                ResponseRow.round_id == round_id,
                ResponseRow.kind == Kind.RESPONSE.value,
                ResponseRow.party_id.is_not(None),
            )
        )
        return {r for r in rows if r is not None}

    def party_entries(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        query = select(PartyRow)
        if round_id is not None:
            query = query.where(PartyRow.round_id == round_id)
        return {
            p.id: PartyEntry(
                p.id, p.round_id, p.name, tuple(p.emails), tuple(p.domains), p.extended_until, p.active
            )
            for p in self._session.scalars(query)
        }

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]:
        rows = self._session.execute(
            select(PartyRow.name, PartyRow.extended_until).where(
                PartyRow.round_id == round_id,
                PartyRow.active.is_(True),
                PartyRow.extended_until.is_not(None),
            )
        ).all()
        return [(name, until) for name, until in rows]

    def _row(self, round_id: str) -> RoundRow:
        row = self._session.get(RoundRow, round_id)
        if row is None:
            raise UnknownRoundError(round_id)
        return row


def to_round(row: RoundRow) -> Round:
    return Round(
        id=row.id,
        title=row.title,
        subject=row.subject,
        administration=row.administration,
        consulted_body=row.consulted_body,
        opens=row.opens,
        deadline=row.deadline,
        reply_to=row.reply_to,
        documents=tuple(row.documents),
        reminders=tuple(row.reminders),
        late_policy=LatePolicy(row.late_policy),
        source_dir=row.source_dir,
        contact=row.contact,
        closed_at=row.closed_at,
        note_layout=NoteLayout(row.note_layout),
        kle=row.kle,
        facet=row.facet,
        retention=row.retention,
    )


def to_party(row: PartyRow) -> Party:
    return Party(
        id=row.id,
        round_id=row.round_id,
        name=row.name,
        emails=tuple(row.emails),
        domains=tuple(row.domains),
        extended_until=row.extended_until,
        person=row.person,
    )


# For code that still holds a Session (assembling, status: the responses helper moves them to
# the unit of work); delete these three once nothing imports them.
def get_round(session: Session, round_id: str) -> Round:
    return SqlRoundRepository(session).get(round_id)


def active_parties(session: Session, round_id: str) -> list[Party]:
    return SqlRoundRepository(session).active_parties(round_id)


def find_party(session: Session, round_id: str, name_or_address: str) -> Party:
    return SqlRoundRepository(session).find_party(round_id, name_or_address)
