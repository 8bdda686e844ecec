"""In-memory fakes of the unit of work and its repositories, for services' unit tests.

Each repository fake lives in its own module and implements the protocol of its
``flows.adapters.db`` namesake; ``FakeUnitOfWork`` holds one of each and records commits.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from tests.support.fakes.batches import FakeBatchRepository
from tests.support.fakes.conclusion import FakeConclusionRepository
from tests.support.fakes.events import FakeEventRepository
from tests.support.fakes.notes import FakeNoteRepository
from tests.support.fakes.outbox import FakeOutboxRepository
from tests.support.fakes.publication import FakePublicationRepository
from tests.support.fakes.records import FakeRecordRepository
from tests.support.fakes.responses import FakeResponseRepository
from tests.support.fakes.rounds import FakeRoundRepository
from tests.support.fakes.sections import FakeSectionRepository


class FakeUnitOfWork:
    """State survives across ``with`` blocks (one fake database); ``commits`` counts commits."""

    dialect = "sqlite"

    def __init__(self) -> None:
        self.rounds = FakeRoundRepository()
        self.outbox = FakeOutboxRepository(
            party_name=lambda party_id: self.rounds.parties[party_id].party.name
        )
        self.responses = FakeResponseRepository()
        self.notes = FakeNoteRepository()
        self.events = FakeEventRepository()
        self.sections = FakeSectionRepository()
        self.records = FakeRecordRepository(self.responses, self.rounds, self.outbox, self.events)
        self.publication = FakePublicationRepository()
        self.conclusion = FakeConclusionRepository()
        self.batches = FakeBatchRepository(self.responses)
        self.commits = 0

    def __call__(self) -> Self:
        """So an ``App`` can take the instance itself as its ``uow`` factory."""
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commits += 1

    def commit(self) -> None:
        self.commits += 1
