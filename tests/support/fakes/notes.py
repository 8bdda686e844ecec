"""In-memory NoteRepository (see flows.adapters.db.notes)."""

from __future__ import annotations


class FakeNoteRepository:
    def __init__(self) -> None:
        pass
