"""In-memory ConclusionRepository (see flows.adapters.db.conclusion)."""

from __future__ import annotations

from flows.core.conclusion import CountedSender


class FakeConclusionRepository:
    """The counted senders of each round, in order of receipt, as a test sets them."""

    def __init__(self) -> None:
        self.counted: dict[str, list[CountedSender]] = {}

    def counted_senders(self, round_id: str) -> list[CountedSender]:
        return list(self.counted.get(round_id, []))
