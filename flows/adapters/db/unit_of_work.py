"""The unit of work: one transaction and the repositories that work inside it.

Services never build SQL and never import ``flows.adapters.db.tables``. They open a unit of
work from the ``App`` and speak to its repositories::

    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        uow.events.add(round_id, "invite", "sent", count=3)

Leaving the block commits; an exception rolls back (as ``Database.transaction``). Each
aggregate has one repository module beside this one; each module holds the ``Protocol`` the
services are typed against and the SQL class that implements it. Tests use the fakes of
``tests/support/fakes``, which implement the same protocols in memory.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy.orm import Session

from flows.adapters.db.batches import BatchRepository, SqlBatchRepository
from flows.adapters.db.conclusion import ConclusionRepository, SqlConclusionRepository
from flows.adapters.db.events import EventRepository, SqlEventRepository
from flows.adapters.db.notes import NoteRepository, SqlNoteRepository
from flows.adapters.db.outbox import OutboxRepository, SqlOutboxRepository
from flows.adapters.db.publication import PublicationRepository, SqlPublicationRepository
from flows.adapters.db.record import RecordRepository, SqlRecordRepository
from flows.adapters.db.responses import ResponseRepository, SqlResponseRepository
from flows.adapters.db.rounds import RoundRepository, SqlRoundRepository
from flows.adapters.db.sections import SectionRepository, SqlSectionRepository
from flows.adapters.db.session import Database


class UnitOfWork(Protocol):
    """What a service may touch inside one transaction."""

    # Read-only members, so a fake may hold its own repository types (a plain attribute of a
    # Protocol is invariant: ``FakeRoundRepository`` would not pass for ``RoundRepository``).
    @property
    def rounds(self) -> RoundRepository:
        """Rounds and their parties."""
        ...

    @property
    def outbox(self) -> OutboxRepository:
        """Messages we send."""
        ...

    @property
    def responses(self) -> ResponseRepository:
        """Raw messages, responses, remarks, attachments."""
        ...

    @property
    def notes(self) -> NoteRepository:
        """What staff wrote in the log."""
        ...

    @property
    def events(self) -> EventRepository:
        """What happened, when, by which run."""
        ...

    @property
    def sections(self) -> SectionRepository:
        """The draft's own sections."""
        ...

    @property
    def records(self) -> RecordRepository:
        """The public record: trace, case file, purge."""
        ...

    @property
    def publication(self) -> PublicationRepository:
        """The public version's senders, attachment texts and staff's decisions."""
        ...

    @property
    def conclusion(self) -> ConclusionRepository:
        """Who is mailed the final note."""
        ...

    @property
    def batches(self) -> BatchRepository:
        """A batch's raw messages: what a worker checks, what the collect reads back."""
        ...

    @property
    def dialect(self) -> str:
        """The database, "sqlite" or "postgresql": a few bulk statements differ."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None:
        """Commit what was done so far and go on in a new transaction (batch loops)."""
        ...


class SqlUnitOfWork:
    """The real unit of work: one SQLAlchemy session, committed when the block ends."""

    rounds: RoundRepository
    outbox: OutboxRepository
    responses: ResponseRepository
    notes: NoteRepository
    events: EventRepository
    sections: SectionRepository
    records: RecordRepository
    publication: PublicationRepository
    conclusion: ConclusionRepository
    batches: BatchRepository

    def __init__(self, db: Database, run_id: str = "cli") -> None:
        self._db = db
        self._run_id = run_id
        self.dialect = db.dialect
        self._transaction: AbstractContextManager[Session] | None = None
        self.session: Session | None = None

    def __enter__(self) -> Self:
        self._transaction = self._db.transaction()
        session = self._transaction.__enter__()
        self.session = session
        self.rounds = SqlRoundRepository(session)
        self.outbox = SqlOutboxRepository(session)
        self.responses = SqlResponseRepository(session)
        self.notes = SqlNoteRepository(session)
        self.events = SqlEventRepository(session, self._run_id)
        self.sections = SqlSectionRepository(session)
        self.records = SqlRecordRepository(session)
        self.publication = SqlPublicationRepository(session)
        self.conclusion = SqlConclusionRepository(session)
        self.batches = SqlBatchRepository(session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._transaction is not None
        transaction, self._transaction, self.session = self._transaction, None, None
        transaction.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        assert self.session is not None
        self.session.commit()
