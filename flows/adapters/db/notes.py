"""What staff wrote in the log: replies, changes, decisions (owner: the responses helper)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class NoteRepository(Protocol):
    """What services may ask of this aggregate; one method per question or bulk statement."""


class SqlNoteRepository:
    def __init__(self, session: Session) -> None:
        self._session = session
