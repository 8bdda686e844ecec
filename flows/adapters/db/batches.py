"""SQL for batches that run in parallel, on one machine or on the workers of a work pool.

* ``lock_rounds``: a write transaction takes its rounds' row locks before it looks for earlier
  responses with the same Message-ID. The numbering (``UPDATE rounds … next_number``) takes the
  same locks anyway, but only *after* that look-up: on PostgreSQL two parallel batches could both
  look, both find nothing, and both count the same Message-ID. Taken first, in id order (no
  deadlock between two batches), the second batch waits until the first has committed and then
  sees its responses. SQLite has one writer and no ``FOR UPDATE``: a no-op there.
* ``stored_files`` and ``batch_outcome``: what a ``process-batch`` run checks before it starts,
  and what the collect that started it reads back afterwards (from the database every worker
  shares, not from the run's result, which lives on the worker's machine).

Flows reach these through ``uow.batches`` (``BatchRepository``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import RawMessageRow, ResponseRow, RoundRow
from flows.core.model import Kind, RawState


def lock_rounds(session: Session, round_ids: Iterable[str]) -> None:
    """Hold the rounds' rows until this transaction ends (PostgreSQL; SQLite: nothing to do)."""
    ids = sorted(set(round_ids))
    if not ids or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(RoundRow.id).where(RoundRow.id.in_(ids)).order_by(RoundRow.id).with_for_update())


def stored_files(session: Session, raw_ids: list[int]) -> list[tuple[int, str]]:
    """(id, path) of the batch's messages that are still waiting to be processed."""
    rows = session.execute(
        select(RawMessageRow.id, RawMessageRow.path)
        .where(RawMessageRow.id.in_(raw_ids), RawMessageRow.state == RawState.STORED.value)
        .order_by(RawMessageRow.id)
    )
    return [(int(row_id), str(path)) for row_id, path in rows]


@dataclass
class BatchOutcome:
    """A batch's messages as the database has them now."""

    processed: int = 0
    quarantined: int = 0
    stored: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def responses(self) -> int:
        return self.by_kind.get(Kind.RESPONSE.value, 0)

    @property
    def set_aside(self) -> int:
        return sum(self.by_kind.values()) - self.responses


def batch_outcome(session: Session, raw_ids: list[int]) -> BatchOutcome:
    outcome = BatchOutcome()
    states = session.execute(
        select(RawMessageRow.state, func.count())
        .where(RawMessageRow.id.in_(raw_ids))
        .group_by(RawMessageRow.state)
    )
    for state, count in states:
        if state == RawState.PROCESSED.value:
            outcome.processed = int(count)
        elif state == RawState.QUARANTINED.value:
            outcome.quarantined = int(count)
        elif state == RawState.STORED.value:
            outcome.stored = int(count)
    kinds = session.execute(
        select(ResponseRow.kind, func.count())
        .where(ResponseRow.raw_message_id.in_(raw_ids))
        .group_by(ResponseRow.kind)
    )
    outcome.by_kind = {str(kind): int(count) for kind, count in kinds}
    errors = session.execute(
        select(RawMessageRow.id, RawMessageRow.error)
        .where(RawMessageRow.id.in_(raw_ids), RawMessageRow.error.is_not(None))
        .where(RawMessageRow.state != RawState.PROCESSED.value)
        .order_by(RawMessageRow.id)
    )
    outcome.problems = [f"besked {row_id}: {error}" for row_id, error in errors]
    return outcome


def stored_maildir_names(session: Session) -> set[str]:
    """The Maildir file names stored already, so the Maildir source does not read them twice."""
    query = select(RawMessageRow.source_name).where(RawMessageRow.source == "maildir")
    return set(session.scalars(query))


class BatchRepository(Protocol):
    """A batch's raw messages, as a worker checks them and the collect reads them back."""

    def waiting_files(self, raw_ids: list[int]) -> list[tuple[int, str]]:
        """(id, path) of the batch's messages still waiting to be processed."""
        ...

    def outcome(self, raw_ids: list[int]) -> BatchOutcome:
        """The batch's messages as the database has them now."""
        ...

    def stored_maildir_names(self) -> set[str]:
        """Maildir file names already stored (any round)."""
        ...


class SqlBatchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def waiting_files(self, raw_ids: list[int]) -> list[tuple[int, str]]:
        return stored_files(self._session, raw_ids)

    def outcome(self, raw_ids: list[int]) -> BatchOutcome:
        return batch_outcome(self._session, raw_ids)

    def stored_maildir_names(self) -> set[str]:
        return stored_maildir_names(self._session)
