"""One view of a round: parties, responses, late, needs review, outbox — from SQL counts.

Counting in the database keeps `hoering status` and the dashboard artifacts fast for a national
round; the rules are the same as the log's (``assembling.counted_clause``, ``party_status``).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from flows.adapters.db.outbox import invitation_states
from flows.adapters.db.rounds import get_round
from flows.adapters.db.sections import count_sections
from flows.adapters.db.tables import EventRow, OutboxRow, PartyRow, RawMessageRow, ResponseRow
from flows.adapters.drop_source import left_behind
from flows.bootstrap import App
from flows.core.danish import danish_key
from flows.core.deadline import reminder_due_at
from flows.core.model import Round
from flows.core.quality import clean_text
from flows.core.retention import retention_view
from flows.services.assembling import REVIEW_KINDS, counted_clause, party_status


def round_status(app: App, round_id: str) -> dict[str, Any]:
    with app.db.transaction() as session:
        rnd = get_round(session, round_id)
        per_party, on_time, late = _counted(session, round_id)
        parties = _parties(session, round_id, per_party)
        review = _needs_review(session, round_id)
        left = left_behind(app.settings.resolved_drop_dir)  # counted in needs_review, as in the log
        outbox = Counter(
            f"{purpose}:{state}"
            for purpose, state in session.execute(
                select(OutboxRow.purpose, OutboxRow.state).where(OutboxRow.round_id == round_id)
            )
        )
        kinds = dict(
            session.execute(
                select(ResponseRow.kind, func.count())
                .where(ResponseRow.round_id == round_id)
                .group_by(ResponseRow.kind)
            ).all()
        )
        stands = _where_it_stands(session, rnd, app.now())
        sections = count_sections(session, round_id)  # the draft's own, read when it was opened
    return {
        "round": rnd.id,
        "title": clean_text(rnd.title),
        "opens": rnd.opens.isoformat(),
        "deadline": rnd.deadline.isoformat(),
        "closed": rnd.closed_at.isoformat() if rnd.closed_at else None,
        "parties": parties,
        "invited": sum(1 for p in parties if p["invited"]),
        "responses": on_time,
        "late": late,
        "needs_review": review + len(left),
        "left_in_drop": [{"name": e.name, "reason": e.reason, "since": e.since.isoformat()} for e in left],
        "items": kinds,
        "outbox": dict(outbox),
        "sections": sections,
        **stands,
        **retention_view(rnd),
    }


COLLECTED = "collected"
"""The event kind a finished collection records; ``last_collect`` is the newest one."""


def record_collected(app: App, round_id: str, **counts: int) -> None:
    """Mark a collection of the round as finished, at the service clock (as ingesting's events)."""
    with app.db.transaction() as session:
        session.add(
            EventRow(
                round_id=round_id,
                run_id=app.run_id,
                step="collect",
                kind=COLLECTED,
                at=app.now(),
                detail=counts,
            )
        )


def _where_it_stands(session: Session, rnd: Round, now: datetime) -> dict[str, Any]:
    """Open or closed, per-party deadlines, the next reminder due, and the last collection."""
    extended = session.execute(
        select(PartyRow.name, PartyRow.extended_until).where(
            PartyRow.round_id == rnd.id,
            PartyRow.active.is_(True),
            PartyRow.extended_until.is_not(None),
        )
    ).all()
    due = sorted(
        when
        for when in (reminder_due_at(rnd.deadline, offset).astimezone(UTC) for offset in rnd.reminders)
        if now < when < rnd.deadline
    )
    last = session.scalar(
        select(func.max(EventRow.at)).where(
            EventRow.round_id == rnd.id, EventRow.step == "collect", EventRow.kind == COLLECTED
        )
    )
    return {
        "state": "closed" if rnd.closed_at else "open",
        "extended_deadlines": [
            {"party": name, "until": until.isoformat()}
            for name, until in sorted(extended, key=lambda row: (row[1], danish_key(row[0])))
            if until is not None
        ],
        "next_reminder": due[0].isoformat() if due and rnd.closed_at is None else None,
        "last_collect": last.isoformat() if last else None,
    }


def _counted(session: Session, round_id: str) -> tuple[dict[int | None, tuple[int, int]], int, int]:
    rows = session.execute(
        select(
            ResponseRow.party_id,
            ResponseRow.late,
            func.count(),
            func.sum(case((ResponseRow.no_remarks.is_(True), 0), else_=1)),
        )
        .where(ResponseRow.round_id == round_id, counted_clause())
        .group_by(ResponseRow.party_id, ResponseRow.late)
    ).all()
    per_party: dict[int | None, tuple[int, int]] = {}
    on_time = late = 0
    for party_id, is_late, count, with_remarks in rows:
        total, remarks = per_party.get(party_id, (0, 0))
        per_party[party_id] = (total + int(count), remarks + int(with_remarks or 0))
        late += int(count) if is_late else 0
        on_time += 0 if is_late else int(count)
    return per_party, on_time, late


def _parties(
    session: Session, round_id: str, per_party: dict[int | None, tuple[int, int]]
) -> list[dict[str, Any]]:
    states = invitation_states(session, round_id)
    rows = session.scalars(select(PartyRow).where(PartyRow.round_id == round_id, PartyRow.active.is_(True)))
    found = []
    for party in sorted(rows, key=lambda p: danish_key(p.name)):
        counted, with_remarks = per_party.get(party.id, (0, 0))
        own_states = states.get(party.id, set())
        found.append(
            {
                "name": clean_text(party.name),  # shown: no bidi override or zero-width character
                "status": party_status(counted, with_remarks, own_states).value,
                "responses": counted,
                "invited": bool(own_states & {"sent", "bounced"}),
            }
        )
    return found


def _needs_review(session: Session, round_id: str) -> int:
    flagged = session.scalar(
        select(func.count())
        .select_from(ResponseRow)
        .where(
            ResponseRow.round_id == round_id,
            ResponseRow.review_reason.is_not(None),
            ResponseRow.kind.in_(REVIEW_KINDS),
        )
    )
    quarantined = session.scalar(
        select(func.count())
        .select_from(RawMessageRow)
        .where(
            RawMessageRow.state == "quarantined",
            RawMessageRow.round_id.in_([round_id]) | RawMessageRow.round_id.is_(None),
        )
    )
    return int(flagged or 0) + int(quarantined or 0)
