"""In-memory ResponseRepository (see flows.adapters.db.responses)."""

from __future__ import annotations


class FakeResponseRepository:
    def __init__(self) -> None:
        pass
