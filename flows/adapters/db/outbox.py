"""The outbox: every message we send, one row per purpose and recipient (owner: the rounds/outbox helper)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class OutboxRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""


class SqlOutboxRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
