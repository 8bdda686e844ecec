"""Close a round after its deadline (the flow runs a final collect first)."""

from __future__ import annotations

from datetime import datetime

from flows.bootstrap import App
from flows.core.errors import DeadlineNotPassedError
from flows.services.rounds import round_row


def ensure_deadline_passed(app: App, round_id: str) -> None:
    with app.db.transaction() as session:
        row = round_row(session, round_id)
        if app.now() <= row.deadline:
            raise DeadlineNotPassedError(round_id, row.deadline)


def mark_closed(app: App, round_id: str) -> datetime:
    """Record the closing (once; a second close keeps the first time)."""
    with app.db.transaction() as session:
        row = round_row(session, round_id)
        if row.closed_at is None:
            row.closed_at = app.now()
            app.event(session, round_id, "close", "closed")
        return row.closed_at
