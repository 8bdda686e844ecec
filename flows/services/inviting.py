"""Invitations, reminders and deadline extensions: queued once, delivered through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from flows.adapters.db.tables import OutboxRow, PartyRow, ResponseRow
from flows.bootstrap import App
from flows.core.danish import deadline_text
from flows.core.deadline import effective_deadline, reminder_due_at
from flows.core.model import Kind, OutboxState, Party, Round
from flows.services.outbox import DUE_STATES, DeliveryReport, Queued, deliver, queue
from flows.services.rounds import active_parties, find_party, get_round, round_row


@dataclass(frozen=True)
class SendSummary:
    queued: int
    delivery: DeliveryReport


def _values(rnd: Round, party: Party) -> dict[str, str]:
    return {
        "round_id": rnd.id,
        "title": rnd.title,
        "administration": rnd.administration,
        "consulted_body": rnd.consulted_body,
        "party": party.name,
        "deadline": deadline_text(effective_deadline(rnd.deadline, party.extended_until)),
        "reply_to": rnd.reply_to,
    }


def queue_invitations(app: App, round_id: str) -> int:
    """One outbox row per party address; a rerun adds only parties or addresses that are new."""
    with app.db.transaction() as session:
        rnd = get_round(session, round_id)
        items = [
            Queued(
                round_id=rnd.id,
                purpose="invitation",
                address=address,
                dedupe_key=f"invitation:{rnd.id}:{party.id}:{address}",
                template="invitation",
                values=_values(rnd, party),
                party_id=party.id,
                template_party=party.name,
            )
            for party in active_parties(session, round_id)
            for address in party.emails
        ]
        count = queue(session, app, items)
        app.event(session, round_id, "invite", "queued", new=count)
    return count


def invite(app: App, round_id: str) -> SendSummary:
    queued = queue_invitations(app, round_id)
    return SendSummary(queued, deliver(app, round_id, purposes=("invitation",)))


@dataclass(frozen=True)
class Waiting:
    """Invitations still in the outbox after a delivery run: none sent yet, none given up on."""

    count: int
    retry_at: datetime | None  # the earliest next attempt; None when one is due at once
    unreached: bool  # some got no answer from the mail server at all (no connection)


def waiting_invitations(app: App, round_id: str, purpose: str = "invitation") -> Waiting:
    """How many of the round's invitations (or reminders) wait for a retry, and when the first may go.

    Counted in the outbox after the run, not from this run's report: a rerun before the
    backoff is over attempts nothing, and must still say that invitations are waiting.
    """
    waiting = (
        OutboxRow.round_id == round_id,
        OutboxRow.purpose == purpose,
        OutboxRow.state.in_([s.value for s in DUE_STATES]),
    )
    with app.db.transaction() as session:
        count, unscheduled, earliest, replied = session.execute(
            select(
                func.count(),
                func.count() - func.count(OutboxRow.next_attempt_at),
                func.min(OutboxRow.next_attempt_at),
                func.count(OutboxRow.last_code),
            ).where(*waiting)
        ).one()
    # min() keeps the column's type, so the time comes back aware (UTC) on SQLite too
    retry_at = None if unscheduled or earliest is None else earliest
    return Waiting(int(count), retry_at, unreached=replied < count)


def responded_party_ids(app: App, round_id: str) -> set[int]:
    with app.db.transaction() as session:
        rows = session.scalars(
            select(ResponseRow.party_id).where(
                ResponseRow.round_id == round_id,
                ResponseRow.kind == Kind.RESPONSE.value,
                ResponseRow.party_id.is_not(None),
            )
        )
        return {r for r in rows if r is not None}


def queue_reminders(app: App, round_id: str) -> int:
    """Each due offset once, to parties without a response whose invitation was delivered."""
    now = app.now()
    answered = responded_party_ids(app, round_id)
    with app.db.transaction() as session:
        rnd = get_round(session, round_id)
        delivered = _delivered_invitations(session, round_id)
        items: list[Queued] = []
        for party in active_parties(session, round_id):
            deadline = effective_deadline(rnd.deadline, party.extended_until)
            if party.id in answered or now >= deadline:
                continue
            for offset in rnd.reminders:
                if now < reminder_due_at(deadline, offset):
                    continue
                for address, message_id in delivered.get(party.id, []):
                    items.append(
                        Queued(
                            round_id=rnd.id,
                            purpose="reminder",
                            address=address,
                            dedupe_key=f"reminder:{offset}:{rnd.id}:{party.id}:{address}",
                            template="reminder",
                            values=_values(rnd, party),
                            party_id=party.id,
                            in_reply_to=message_id,
                        )
                    )
        count = queue(session, app, items)
        app.event(session, round_id, "remind", "queued", new=count)
    return count


def _delivered_invitations(session: object, round_id: str) -> dict[int, list[tuple[str, str]]]:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    rows = session.execute(
        select(OutboxRow.party_id, OutboxRow.address, OutboxRow.message_id).where(
            OutboxRow.round_id == round_id,
            OutboxRow.purpose == "invitation",
            OutboxRow.state == OutboxState.SENT.value,
        )
    )
    found: dict[int, list[tuple[str, str]]] = {}
    for party_id, address, message_id in rows:
        if party_id is not None:
            found.setdefault(party_id, []).append((address, message_id))
    return found


def remind(app: App, round_id: str) -> SendSummary:
    queued = queue_reminders(app, round_id)
    return SendSummary(queued, deliver(app, round_id, purposes=("reminder",)))


def extend(app: App, round_id: str, party_name: str, until: datetime) -> SendSummary:
    """Record a party's own deadline and mail it a notice; lateness then uses it."""
    with app.db.transaction() as session:
        rnd = round_row(session, round_id)
        party = find_party(session, round_id, party_name)
        row = session.get(PartyRow, party.id)
        assert row is not None
        row.extended_until = until
        app.event(session, round_id, "extend", "deadline", party=party.name, until=until.isoformat())
        values = _values(get_round(session, rnd.id), party) | {"until": deadline_text(until)}
        items = [
            Queued(
                round_id=round_id,
                purpose="extension",
                address=address,
                dedupe_key=f"extension:{round_id}:{party.id}:{until.isoformat()}:{address}",
                template="extension",
                values=values,
                party_id=party.id,
            )
            for address in party.emails
        ]
        queued = queue(session, app, items)
    return SendSummary(queued, deliver(app, round_id, purposes=("extension",)))
