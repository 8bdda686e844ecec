"""Invitations, reminders and deadline extensions: queued once, delivered through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.bootstrap import App
from flows.core.danish import deadline_text
from flows.core.deadline import effective_deadline, reminder_due_at
from flows.core.model import OutboxPurpose, Party, Round
from flows.core.outbox import OutboxItem, Waiting
from flows.services.outbox import DeliveryReport, deliver, enqueue

__all__ = ["SendSummary", "Waiting", "extend", "invite", "queue_invitations", "queue_reminders", "remind"]


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
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        items = [
            OutboxItem(
                round_id=rnd.id,
                purpose=OutboxPurpose.INVITATION,
                address=address,
                dedupe_key=f"invitation:{rnd.id}:{party.id}:{address}",
                template="invitation",
                values=_values(rnd, party),
                party_id=party.id,
                template_party=party.name,
            )
            for party in uow.rounds.active_parties(round_id)
            for address in party.emails
        ]
        count = enqueue(uow, app, items)
        uow.events.add(round_id, "invite", "queued", new=count)
    return count


def invite(app: App, round_id: str) -> SendSummary:
    queued = queue_invitations(app, round_id)
    return SendSummary(queued, deliver(app, round_id, purposes=(OutboxPurpose.INVITATION,)))


def waiting_invitations(
    app: App, round_id: str, purpose: OutboxPurpose = OutboxPurpose.INVITATION
) -> Waiting:
    """How many of the round's invitations (or reminders) wait for a retry, and when the first may go.

    Counted in the outbox after the run, not from this run's report: a rerun before the
    backoff is over attempts nothing, and must still say that invitations are waiting.
    """
    with app.uow() as uow:
        return uow.outbox.waiting(round_id, OutboxPurpose(purpose))


def queue_reminders(app: App, round_id: str) -> int:
    """Each due offset once, to parties without a response whose invitation was delivered."""
    now = app.now()
    with app.uow() as uow:
        answered = uow.rounds.answered_party_ids(round_id)
        rnd = uow.rounds.get(round_id)
        delivered = uow.outbox.delivered(round_id, OutboxPurpose.INVITATION)
        items: list[OutboxItem] = []
        for party in uow.rounds.active_parties(round_id):
            deadline = effective_deadline(rnd.deadline, party.extended_until)
            if party.id in answered or now >= deadline:
                continue
            for offset in rnd.reminders:
                if now < reminder_due_at(deadline, offset):
                    continue
                items.extend(
                    OutboxItem(
                        round_id=rnd.id,
                        purpose=OutboxPurpose.REMINDER,
                        address=address,
                        dedupe_key=f"reminder:{offset}:{rnd.id}:{party.id}:{address}",
                        template="reminder",
                        values=_values(rnd, party),
                        party_id=party.id,
                        in_reply_to=message_id,
                    )
                    for address, message_id in delivered.get(party.id, [])
                )
        count = enqueue(uow, app, items)
        uow.events.add(round_id, "remind", "queued", new=count)
    return count


def remind(app: App, round_id: str) -> SendSummary:
    queued = queue_reminders(app, round_id)
    return SendSummary(queued, deliver(app, round_id, purposes=(OutboxPurpose.REMINDER,)))


def extend(app: App, round_id: str, party_name: str, until: datetime) -> SendSummary:
    """Record a party's own deadline and mail it a notice; lateness then uses it."""
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        party = uow.rounds.find_party(round_id, party_name)
        uow.rounds.extend(party.id, until)
        uow.events.add(round_id, "extend", "deadline", party=party.name, until=until.isoformat())
        values = _values(rnd, party) | {"until": deadline_text(until)}
        items = [
            OutboxItem(
                round_id=round_id,
                purpose=OutboxPurpose.EXTENSION,
                address=address,
                dedupe_key=f"extension:{round_id}:{party.id}:{until.isoformat()}:{address}",
                template="extension",
                values=values,
                party_id=party.id,
            )
            for address in party.emails
        ]
        queued = enqueue(uow, app, items)
    return SendSummary(queued, deliver(app, round_id, purposes=(OutboxPurpose.EXTENSION,)))
