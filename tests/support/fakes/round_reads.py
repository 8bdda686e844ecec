"""In-memory RoundReads (see flows.adapters.db.round_reads): rounds, parties, outbox, events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flows.adapters.db.round_reads import THREAD_PURPOSES, OutboxItem, PartyEntry
from flows.core.errors import UnknownPartyError, UnknownRoundError
from flows.core.model import OutboxPurpose, OutboxState, Party, Round
from tests.support.fakes.events import FakeEventRepository


class FakeRoundReads:
    def __init__(self) -> None:
        self.by_id: dict[str, Round] = {}
        self.party_entries: dict[int, PartyEntry] = {}
        self.next_number: dict[str, int] = {}
        self.outbox: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        # The unit of work's event fake, so single events (``uow.events.add``) are seen too.
        self.event_log: FakeEventRepository | None = None

    # test set-up ---------------------------------------------------------------------------

    def add_round(self, rnd: Round) -> None:
        self.by_id[rnd.id] = rnd
        self.next_number.setdefault(rnd.id, 1)

    def add_party(
        self, round_id: str, name: str, emails: tuple[str, ...], *, active: bool = True, **extra: Any
    ) -> PartyEntry:
        entry = PartyEntry(
            len(self.party_entries) + 1,
            round_id,
            name,
            emails,
            extra.get("domains", ()),
            extra.get("extended_until"),
            active,
        )
        self.party_entries[entry.id] = entry
        return entry

    def add_sent(self, round_id: str, purpose: str, address: str, party_id: int | None, **row: Any) -> None:
        self.outbox.append(
            {
                "round_id": round_id,
                "purpose": purpose,
                "address": address,
                "party_id": party_id,
                "state": row.pop("state", OutboxState.SENT.value),
                "message_id": row.pop("message_id", f"<{len(self.outbox)}@hoering.invalid>"),
                "created_at": row.pop("created_at", None),
                "sent_at": row.pop("sent_at", None),
                "dedupe_key": f"{purpose}:{address}:{len(self.outbox)}",
                **row,
            }
        )

    def take_numbers(self, round_id: str, count: int) -> int:
        start = self.next_number[round_id]
        self.next_number[round_id] = start + count
        return start

    # RoundReads ----------------------------------------------------------------------------

    def rounds(self) -> dict[str, Round]:
        return dict(self.by_id)

    def get_round(self, round_id: str) -> Round:
        if round_id not in self.by_id:
            raise UnknownRoundError(round_id)
        return self.by_id[round_id]

    def parties(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        return {i: p for i, p in self.party_entries.items() if round_id in (None, p.round_id)}

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        wanted = name_or_address.strip().casefold()
        for p in self.parties(round_id).values():
            if p.active and (p.name.casefold() == wanted or wanted in p.emails):
                return Party(p.id, p.round_id, p.name, p.emails, p.domains, p.extended_until)
        raise UnknownPartyError(round_id, name_or_address)

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]:
        return [
            (p.name, p.extended_until)
            for p in self.parties(round_id).values()
            if p.active and p.extended_until is not None
        ]

    def thread_ids(self) -> list[tuple[str, str, int | None]]:
        return [
            (o["round_id"], o["message_id"], o["party_id"])
            for o in self.outbox
            if o["purpose"] in THREAD_PURPOSES
        ]

    def mark_bounced(self, round_id: str, message_ids: set[str], recipients: set[str]) -> None:
        ids = message_ids | {f"<{i}>" for i in message_ids}
        for o in self.outbox:
            if o["round_id"] != round_id or o["purpose"] not in THREAD_PURPOSES:
                continue
            if (message_ids and o["message_id"] in ids) or (not message_ids and o["address"] in recipients):
                o["state"] = OutboxState.BOUNCED.value

    def receipts_since(self, since: datetime, senders: set[str]) -> set[str]:
        return {
            o["address"]
            for o in self.outbox
            if o["address"] in senders
            and o["purpose"] == OutboxPurpose.RECEIPT
            and o["created_at"] is not None
            and o["created_at"] > since
        }

    def queue_outbox(self, items: Sequence[OutboxItem], mail_domain: str, now: datetime) -> int:
        keys = {o["dedupe_key"] for o in self.outbox}
        new = 0
        for item in items:
            if item.dedupe_key in keys:
                continue
            keys.add(item.dedupe_key)
            self.outbox.append(
                {
                    "round_id": item.round_id,
                    "purpose": item.purpose,
                    "address": item.address,
                    "party_id": item.party_id,
                    "response_id": item.response_id,
                    "state": OutboxState.PENDING.value,
                    "message_id": f"<{len(self.outbox)}@{mail_domain}>",
                    "created_at": now,
                    "sent_at": None,
                    "dedupe_key": item.dedupe_key,
                    "template": item.template,
                }
            )
            new += 1
        return new

    def invitation_states(self, round_id: str) -> dict[int, set[str]]:
        states: dict[int, set[str]] = {}
        for o in self.outbox:
            if (
                o["round_id"] == round_id
                and o["purpose"] == OutboxPurpose.INVITATION
                and o["party_id"] is not None
            ):
                states.setdefault(o["party_id"], set()).add(o["state"])
        return states

    def sent_at_by_party(self, round_id: str) -> dict[int, datetime]:
        first: dict[int, datetime] = {}
        for o in self.outbox:
            if o["round_id"] != round_id or o["purpose"] != OutboxPurpose.INVITATION:
                continue
            party_id, sent_at = o["party_id"], o["sent_at"]
            if (
                party_id is not None
                and sent_at is not None
                and (party_id not in first or sent_at < first[party_id])
            ):
                first[party_id] = sent_at
        return first

    def outbox_states(self, round_id: str) -> list[tuple[str, str]]:
        return [(o["purpose"], o["state"]) for o in self.outbox if o["round_id"] == round_id]

    def add_events(self, rows: list[dict[str, Any]]) -> None:
        self.events.extend(rows)

    def last_event_at(self, round_id: str, step: str, kind: str) -> datetime | None:
        found = [e for e in self.events if (e["round_id"], e["step"], e["kind"]) == (round_id, step, kind)]
        times = [e["at"] for e in found if e.get("at") is not None]
        if self.event_log is not None:
            times += [
                e.at
                for e in self.event_log.added
                if (e.round_id, e.step, e.kind) == (round_id, step, kind) and e.at is not None
            ]
        return max(times, default=None)
