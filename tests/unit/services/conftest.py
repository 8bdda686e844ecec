"""Services on fakes: an ``App`` with no database, a ``FakeUnitOfWork``, a ``FakeMailer`` and a clock
that stands still until a test moves it (``world``, for rounds and the outbox); and a round of three
parties with its invitations sent, for messages in and the log (``uow``, ``app``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import App
from flows.core.model import LatePolicy, OutboxPurpose, PartySpec, RoundSpec
from flows.settings import Settings
from tests.factories import OPENS as ROUND_OPENS
from tests.factories import make_round
from tests.support.fakes import FakeUnitOfWork
from tests.support.fakes.mail import FakeMailer

OPENS = datetime.fromisoformat("2025-10-16T09:00:00+02:00")
DEADLINE = datetime.fromisoformat("2025-10-24T23:59:59+02:00")


@dataclass
class Clock:
    at: datetime = OPENS

    def __call__(self) -> datetime:
        return self.at

    def move(self, by: timedelta) -> None:
        self.at += by


@dataclass
class World:
    """One fake installation: the app the service gets, and what it touches."""

    app: App
    uow: FakeUnitOfWork
    mailer: FakeMailer
    clock: Clock
    base: Path

    def round(self, **changes: object) -> RoundSpec:
        """Store a round as ``open`` would (two parties, one with two addresses); its spec."""
        spec = replace(sample_spec(self.base), **changes)  # type: ignore[arg-type]
        self.uow.rounds.save(spec, "digest", at=self.clock())
        return spec


def sample_spec(base: Path) -> RoundSpec:
    draft = base / "udkast.pdf"
    draft.write_bytes(b"%PDF-1.4 udkast")
    return RoundSpec(
        id="r1",
        title="Strategi",
        subject="strategien",
        administration="Socialforvaltningen",
        consulted_body="Rådet",
        opens=OPENS,
        deadline=DEADLINE,
        reply_to="hoering@kk.example",
        documents=(str(draft),),
        reminders=("3d",),
        late_policy=LatePolicy.FLAG,
        parties=(
            PartySpec("Foreningen", ("forening@example.org",)),
            PartySpec("Rådet for X", ("raad@example.org", "formand@example.org")),
        ),
        contact="sagsbehandler@kk.example",
        source_dir=str(base),
    )


@pytest.fixture
def world(tmp_path: Path) -> World:
    uow, mailer, clock = FakeUnitOfWork(), FakeMailer(), Clock()
    app = App(
        Settings(data_dir=tmp_path / "var", mail_domain="kk.example"),
        uow_factory=uow,
        mailer_factory=lambda: mailer,
        clock=clock,
    )
    return World(app, uow, mailer, clock, tmp_path)


ROUND = make_round()
NOW = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)
PARTIES = {
    "Handicaprådet": "hr@kk.example",
    "Ældrerådet": "aeldre@kk.example",
    "Red Barnet": "info@redbarnet.example",
}


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    fake.rounds.add_round(ROUND)
    for name, address in PARTIES.items():
        party = fake.rounds.add_party(ROUND.id, name, (address,))
        sent_at = ROUND_OPENS + timedelta(hours=1)
        fake.outbox.add_sent(ROUND.id, OutboxPurpose.INVITATION, address, party.id, sent_at=sent_at)
    return fake


@pytest.fixture
def app(tmp_path: Path, uow: FakeUnitOfWork) -> App:
    """No database at all: ``db`` is None, so any path that still opened one would fail."""
    none: Any = None
    return App(Settings(data_dir=tmp_path / "var"), none, clock=lambda: NOW, uow_factory=uow)


def mail(sender: str, body: str, *, message_id: str, subject: str = "Høringssvar") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ROUND.reply_to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}>"
    msg["Date"] = "Mon, 20 Oct 2025 10:00:00 +0200"
    msg.set_content(body)
    return msg.as_bytes()


def batch(*messages: bytes, minutes: int = 0) -> Batch:
    """Messages as the drop folder hands them over, received a minute apart after ``minutes``."""
    return Batch(
        [
            FetchedMessage(
                data,
                ROUND_OPENS + timedelta(days=2, minutes=minutes + n),
                "test",
                "drop",
                f"svar-{minutes + n}.eml",
            )
            for n, data in enumerate(messages)
        ]
    )
