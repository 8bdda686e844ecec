"""Services run on the fake unit of work: an ``App`` with no database, a round, three parties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import App
from flows.settings import Settings
from tests.factories import OPENS, make_round
from tests.support.fakes import FakeUnitOfWork

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
    reads = fake.responses.round_reads
    reads.add_round(ROUND)
    for name, address in PARTIES.items():
        party = reads.add_party(ROUND.id, name, (address,))
        reads.add_sent(ROUND.id, "invitation", address, party.id, sent_at=OPENS + timedelta(hours=1))
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
                OPENS + timedelta(days=2, minutes=minutes + n),
                "test",
                "drop",
                f"svar-{minutes + n}.eml",
            )
            for n, data in enumerate(messages)
        ]
    )
