"""Reading rounds and parties back as domain objects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import PartyRow, RoundRow
from flows.core.errors import UnknownPartyError, UnknownRoundError
from flows.core.model import LatePolicy, NoteLayout, Party, Round


def round_row(session: Session, round_id: str) -> RoundRow:
    row = session.get(RoundRow, round_id)
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


def get_round(session: Session, round_id: str) -> Round:
    return to_round(round_row(session, round_id))


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


def active_parties(session: Session, round_id: str) -> list[Party]:
    rows = session.scalars(
        select(PartyRow)
        .where(PartyRow.round_id == round_id, PartyRow.active.is_(True))
        .order_by(PartyRow.position)
    )
    return [to_party(r) for r in rows]


def find_party(session: Session, round_id: str, name_or_address: str) -> Party:
    """A party by its exact name (case-insensitive) or one of its addresses."""
    wanted = name_or_address.strip().casefold()
    for party in active_parties(session, round_id):
        if party.name.casefold() == wanted or wanted in party.emails:
            return party
    raise UnknownPartyError(round_id, name_or_address)
