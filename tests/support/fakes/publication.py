"""In-memory PublicationRepository (see flows.adapters.db.publication)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flows.core.public_version import Sender
from flows.core.redaction import PublicDecision


class FakePublicationRepository:
    """Senders, person names and attachment texts are set by a test; decisions are kept as the
    SQL repository keeps them (one per place and text, in the order first made)."""

    def __init__(self) -> None:
        self.by_number: dict[str, dict[int, Sender]] = {}
        self.persons: dict[str, list[str]] = {}
        self.attachments: dict[str, dict[int, list[tuple[str, str]]]] = {}
        self.kept: dict[str, dict[tuple[str, str], PublicDecision]] = {}
        self.saved_at: list[datetime] = []

    def senders(self, round_id: str, numbers: Iterable[int]) -> dict[int, Sender]:
        known = self.by_number.get(round_id, {})
        return {n: known[n] for n in set(numbers) if n in known}

    def person_party_names(self, round_id: str) -> list[str]:
        return list(self.persons.get(round_id, []))

    def attachment_texts(self, round_id: str, numbers: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
        known = self.attachments.get(round_id, {})
        return {n: list(known[n]) for n in sorted(set(numbers)) if n in known}

    def decisions(self, round_id: str) -> list[PublicDecision]:
        return list(self.kept.get(round_id, {}).values())

    def save_decisions(
        self,
        round_id: str,
        decided: Iterable[PublicDecision],
        cleared: Iterable[tuple[str, str]],
        now: datetime,
    ) -> None:
        kept = self.kept.setdefault(round_id, {})
        for key in cleared:
            if key in kept and not kept[key].added:
                del kept[key]
        for d in decided:
            old = kept.get((d.place, d.found))
            added = d.added or (old is not None and old.added)
            kept[(d.place, d.found)] = PublicDecision(
                d.place, d.found, d.decision, d.replacement, d.reason, added
            )
        self.saved_at.append(now)
