"""Services on fakes: an ``App`` with no database, a ``FakeUnitOfWork``, a ``FakeMailer`` and a clock
that stands still until a test moves it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from flows.bootstrap import App
from flows.core.model import LatePolicy, PartySpec, RoundSpec
from flows.settings import Settings
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
