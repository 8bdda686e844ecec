"""Close a round after its deadline (the flow runs a final collect first)."""

from __future__ import annotations

from datetime import datetime

from flows.bootstrap import App
from flows.core.danish import deadline_text
from flows.core.errors import HoeringError


class DeadlineNotPassedError(HoeringError):
    def __init__(self, round_id: str, deadline: datetime) -> None:
        super().__init__(f"fristen for {round_id} er ikke udløbet endnu ({deadline_text(deadline)})")


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
