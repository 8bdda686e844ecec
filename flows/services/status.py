"""One view of a round: parties, responses, late, needs review, outbox."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from flows.adapters.db.tables import OutboxRow, ResponseRow
from flows.bootstrap import App
from flows.services.assembling import build_assembly


def round_status(app: App, round_id: str) -> dict[str, Any]:
    assembly = build_assembly(app, round_id, summary=True)
    with app.db.transaction() as session:
        outbox = Counter(
            f"{purpose}:{state}"
            for purpose, state in session.execute(
                select(OutboxRow.purpose, OutboxRow.state).where(OutboxRow.round_id == round_id)
            )
        )
        kinds = Counter(session.scalars(select(ResponseRow.kind).where(ResponseRow.round_id == round_id)))
    rnd = assembly.round
    return {
        "round": rnd.id,
        "title": rnd.title,
        "opens": rnd.opens.isoformat(),
        "deadline": rnd.deadline.isoformat(),
        "closed": rnd.closed_at.isoformat() if rnd.closed_at else None,
        "parties": [
            {"name": p.name, "status": p.status.value, "responses": p.responses} for p in assembly.parties
        ],
        "invited": sum(1 for p in assembly.parties if p.invited_at is not None),
        "responses": len(assembly.on_time),
        "late": len(assembly.late),
        "needs_review": len(assembly.review),
        "items": dict(kinds),
        "outbox": dict(outbox),
    }
