"""In-memory RoundRepository (see flows.adapters.db.rounds)."""

from __future__ import annotations


class FakeRoundRepository:
    def __init__(self) -> None:
        pass
