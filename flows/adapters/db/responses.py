"""Raw messages, responses, remarks and attachments (owner: the responses helper)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class ResponseRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""


class SqlResponseRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
