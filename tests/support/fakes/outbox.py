"""In-memory OutboxRepository (see flows.adapters.db.outbox)."""

from __future__ import annotations


class FakeOutboxRepository:
    def __init__(self) -> None:
        pass
