"""Close a round after its deadline (the flow runs a final collect first)."""

from __future__ import annotations

from datetime import datetime

from flows.bootstrap import App
from flows.core.errors import DeadlineNotPassedError

__all__ = ["DeadlineNotPassedError", "ensure_deadline_passed", "mark_closed"]


def ensure_deadline_passed(app: App, round_id: str) -> None:
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
    if app.now() <= rnd.deadline:
        raise DeadlineNotPassedError(round_id, rnd.deadline)


def mark_closed(app: App, round_id: str) -> datetime:
    """Record the closing (once; a second close keeps the first time)."""
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        if rnd.closed_at is not None:
            return rnd.closed_at
        closed_at = app.now()
        uow.rounds.mark_closed(round_id, closed_at)
        uow.events.add(round_id, "close", "closed")
    return closed_at
