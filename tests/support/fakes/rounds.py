"""In-memory RoundRepository (see flows.adapters.db.rounds)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from flows.adapters.db.rounds import PartyEntry
from flows.core.errors import UnknownRoundError
from flows.core.model import Party, Round, RoundSpec, named_party


@dataclass
class _StoredParty:
    party: Party
    position: int
    active: bool = True


def round_from(spec: RoundSpec) -> Round:
    """The round a spec opens, as the SQL repository reads it back."""
    return Round(
        id=spec.id,
        title=spec.title,
        subject=spec.subject,
        administration=spec.administration,
        consulted_body=spec.consulted_body,
        opens=spec.opens,
        deadline=spec.deadline,
        reply_to=spec.reply_to,
        documents=spec.documents,
        reminders=spec.reminders,
        late_policy=spec.late_policy,
        source_dir=spec.source_dir,
        contact=spec.contact,
        note_layout=spec.note_layout,
        kle=spec.kle,
        facet=spec.facet,
        retention=spec.retention,
    )


class FakeRoundRepository:
    def __init__(self) -> None:
        self.rounds: dict[str, Round] = {}
        self.digests: dict[str, str] = {}
        self.updated_at: dict[str, datetime] = {}
        self.parties: dict[int, _StoredParty] = {}
        self.answered: dict[str, set[int]] = {}  # what the responses would say: set it in a test

    def get(self, round_id: str) -> Round:
        rnd = self.rounds.get(round_id)
        if rnd is None:
            raise UnknownRoundError(round_id)
        return rnd

    def find(self, round_id: str) -> Round | None:
        return self.rounds.get(round_id)

    def all(self) -> list[Round]:
        return [self.rounds[key] for key in sorted(self.rounds)]

    def digest(self, round_id: str) -> str | None:
        return self.digests.get(round_id)

    def save(self, spec: RoundSpec, digest: str, *, at: datetime) -> None:
        old = self.rounds.get(spec.id)
        self.rounds[spec.id] = replace(round_from(spec), closed_at=old.closed_at if old else None)
        self.digests[spec.id] = digest
        self.updated_at[spec.id] = at
        existing = {s.party.name: s for s in self.parties.values() if s.party.round_id == spec.id}
        for position, party in enumerate(spec.parties):
            stored = existing.pop(party.name, None)
            party_id = stored.party.id if stored else len(self.parties) + 1
            extended = stored.party.extended_until if stored else None
            self.parties[party_id] = _StoredParty(
                Party(party_id, spec.id, party.name, party.emails, party.domains, extended, party.person),
                position,
            )
        for stored in existing.values():
            stored.active = False

    def mark_closed(self, round_id: str, at: datetime) -> None:
        self.rounds[round_id] = replace(self.get(round_id), closed_at=at)

    def active_parties(self, round_id: str) -> list[Party]:
        found = [s for s in self.parties.values() if s.party.round_id == round_id and s.active]
        return [s.party for s in sorted(found, key=lambda s: s.position)]

    def find_party(self, round_id: str, name_or_address: str) -> Party:
        return named_party(self.active_parties(round_id), round_id, name_or_address)

    def extend(self, party_id: int, until: datetime) -> None:
        stored = self.parties[party_id]
        stored.party = replace(stored.party, extended_until=until)

    def answered_party_ids(self, round_id: str) -> set[int]:
        return set(self.answered.get(round_id, set()))

    def party_entries(self, round_id: str | None = None) -> dict[int, PartyEntry]:
        return {
            party_id: PartyEntry(
                s.party.id, s.party.round_id, s.party.name, s.party.emails, s.party.domains,
                s.party.extended_until, s.active,
            )
            for party_id, s in self.parties.items()
            if round_id in (None, s.party.round_id)
        }  # fmt: skip

    def extended_deadlines(self, round_id: str) -> list[tuple[str, datetime | None]]:
        return [(p.name, p.extended_until) for p in self.active_parties(round_id) if p.extended_until]

    def add_round(self, rnd: Round) -> None:
        """For tests: a round as it is stored, without a round file."""
        self.rounds[rnd.id] = rnd

    def add_party(
        self, round_id: str, name: str, emails: Sequence[str], *, active: bool = True, **extra: object
    ) -> Party:
        """For tests: one party of a round (``domains``, ``extended_until`` may be given)."""
        party_id = len(self.parties) + 1
        domains = extra.get("domains", ())
        until = extra.get("extended_until")
        assert isinstance(domains, tuple) and (until is None or isinstance(until, datetime))
        party = Party(party_id, round_id, name, tuple(emails), domains, until)
        self.parties[party_id] = _StoredParty(party, party_id, active)
        return party

    def inactive_names(self, round_id: str) -> list[str]:
        """For tests: the parties a later round file dropped."""
        return [s.party.name for s in self.parties.values() if s.party.round_id == round_id and not s.active]
