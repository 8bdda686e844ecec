"""The counting rule has one definition (``core.counting.COUNTING``) and two forms: Python's
``is_counted`` and the SQL ``counted_clause``. Both are evaluated on the same rows, in a real
database, for every combination of the facts the rule looks at (and lateness, which it must not)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from sqlalchemy import select

from flows.adapters.db.responses import counted_clause
from flows.adapters.db.session import Database
from flows.adapters.db.tables import PartyRow, ResponseRow, RoundRow
from flows.core.authresults import Trust
from flows.core.counting import COUNTING, is_counted
from flows.core.model import Decision, Kind

AT = datetime(2025, 10, 20, 10, 0, tzinfo=UTC)
DECISIONS = [None, Decision.INCLUDE.value, Decision.REJECT.value]
COMBINATIONS = list(itertools.product(Kind, DECISIONS, [False, True], [False, True], [None, 1], Trust))


def _fill(db: Database) -> None:
    with db.transaction() as session:
        session.add(
            RoundRow(
                id="r",
                title="t",
                subject="s",
                administration="a",
                consulted_body="c",
                opens=AT,
                deadline=AT,
                reply_to="r@kk.example",
                documents=[],
                reminders=[],
                late_policy="flag",
                source_dir=".",
                spec_sha256="0" * 64,
            )
        )
        session.flush()
        session.add(PartyRow(id=1, round_id="r", name="p", emails=[], domains=[]))
        session.flush()
        for number, (kind, decision, held, late, party_id, verified) in enumerate(COMBINATIONS, start=1):
            session.add(
                ResponseRow(
                    round_id="r",
                    number=number,
                    reference=f"r-{number}",
                    kind=kind.value,
                    channel="E-mail",
                    party_id=party_id,
                    sender="x@y.example",
                    received_at=AT,
                    late=late,
                    verified=verified.value,
                    held=held,
                    decision=decision,
                )
            )


def test_python_and_sql_count_the_same_rows(database_url: str) -> None:
    """Every kind × decision × held × late × party × sender verdict: both forms agree."""
    db = Database(database_url)
    try:
        _fill(db)
        with db.transaction() as session:
            rows = list(session.scalars(select(ResponseRow)))
            by_sql = set(session.scalars(select(ResponseRow.id).where(counted_clause())))
            by_python = {row.id for row in rows if is_counted(row)}
    finally:
        db.dispose()

    assert len(rows) == len(COMBINATIONS) == 6 * 3 * 2 * 2 * 2 * 3
    assert by_sql == by_python
    assert 0 < len(by_python) < len(rows)


def test_the_rule_itself_on_the_cases_staff_meet() -> None:
    """Medtag wins over an unknown or unverified sender and a hold; Afvis over everything; only
    responses count; a late response counts."""

    class Item:
        def __init__(self, **facts: object) -> None:
            base = {"kind": "response", "decision": None, "party_id": 1, "verified": "none", "held": False}
            self.__dict__.update(base | facts)

    assert is_counted(Item())  # type: ignore[arg-type]
    assert is_counted(Item(late=True))  # type: ignore[arg-type]
    assert not is_counted(Item(party_id=None))  # type: ignore[arg-type]
    assert not is_counted(Item(verified="fail"))  # type: ignore[arg-type]
    assert not is_counted(Item(held=True))  # type: ignore[arg-type]
    assert is_counted(Item(party_id=None, verified="fail", held=True, decision="Medtag"))  # type: ignore[arg-type]
    assert not is_counted(Item(decision="Afvis"))  # type: ignore[arg-type]
    assert not is_counted(Item(kind="bounce", decision="Medtag"))  # type: ignore[arg-type]
    assert COUNTING.counted_kind is Kind.RESPONSE
