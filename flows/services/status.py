"""One view of a round: parties, responses, late, needs review, outbox — from SQL counts.

Counting in the database keeps `hoering status` and the dashboard artifacts fast for a national
round; the rules are the log's (``core.counting``: the SQL form of ``is_counted`` and
``party_status``).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flows.adapters.db.responses import PartyCount
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.drop_source import left_behind
from flows.bootstrap import App
from flows.core.counting import party_status
from flows.core.danish import danish_key
from flows.core.deadline import reminder_due_at
from flows.core.model import OutboxState, Round
from flows.core.quality import clean_text
from flows.core.retention import retention_view

COLLECTED = "collected"
"""The event kind a finished collection records; ``last_collect`` is the newest one."""
# The invitation states that show it went out (a bounce came back from a real attempt).
WENT_OUT = frozenset({OutboxState.SENT, OutboxState.BOUNCED})


def round_status(app: App, round_id: str) -> dict[str, Any]:
    with app.uow() as uow:
        repo = uow.responses
        rnd = uow.rounds.get(round_id)
        per_party, on_time, late = _tally(repo.counted_by_party(round_id))
        parties = _parties(uow, round_id, per_party)
        review = repo.review_count(round_id) + repo.quarantined_count(round_id)
        left = left_behind(app.settings.resolved_drop_dir)  # counted in needs_review, as in the log
        outbox = Counter(f"{purpose}:{state}" for purpose, state in uow.outbox.states(round_id))
        kinds = repo.kind_counts(round_id)
        stands = _where_it_stands(uow, rnd, app.now())
        sections = len(uow.sections.load(round_id))  # the draft's own, read when it was opened
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


def record_collected(app: App, round_id: str, **counts: int) -> None:
    """Mark a collection of the round as finished, at the service clock (as ingesting's events)."""
    with app.uow() as uow:
        uow.events.add(round_id, "collect", COLLECTED, recorded_at=app.now(), **counts)


def _where_it_stands(uow: UnitOfWork, rnd: Round, now: datetime) -> dict[str, Any]:
    """Open or closed, per-party deadlines, the next reminder due, and the last collection."""
    extended = uow.rounds.extended_deadlines(rnd.id)
    due = sorted(
        when
        for when in (reminder_due_at(rnd.deadline, offset).astimezone(UTC) for offset in rnd.reminders)
        if now < when < rnd.deadline
    )
    last = uow.events.last_at(rnd.id, "collect", COLLECTED)
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


def _tally(rows: list[PartyCount]) -> tuple[dict[int | None, tuple[int, int]], int, int]:
    """Counted responses per party (with remarks among them), and how many on time and late."""
    per_party: dict[int | None, tuple[int, int]] = {}
    on_time = late = 0
    for party_id, is_late, count, with_remarks in rows:
        total, remarks = per_party.get(party_id, (0, 0))
        per_party[party_id] = (total + count, remarks + with_remarks)
        late += count if is_late else 0
        on_time += 0 if is_late else count
    return per_party, on_time, late


def _parties(
    uow: UnitOfWork, round_id: str, per_party: dict[int | None, tuple[int, int]]
) -> list[dict[str, Any]]:
    states = {p: set[str](s) for p, s in uow.outbox.invitation_states(round_id).items()}
    active = [p for p in uow.rounds.party_entries(round_id).values() if p.active]
    found = []
    for party in sorted(active, key=lambda p: danish_key(p.name)):
        counted, with_remarks = per_party.get(party.id, (0, 0))
        own_states = states.get(party.id, set())
        found.append(
            {
                "name": clean_text(party.name),  # shown: no bidi override or zero-width character
                "status": party_status(counted, with_remarks, own_states).value,
                "responses": counted,
                "invited": bool(own_states & WENT_OUT),
            }
        )
    return found
