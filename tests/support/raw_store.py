"""The set-up the raw-store tests share: a bare round row, and fetched messages to store.

Straight onto the tables (no round file, no opening service): these tests are about what the raw
store and the batches do with the bytes, so the round only has to exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.adapters.db.tables import RoundRow
from flows.adapters.ports import FetchedMessage
from flows.bootstrap import App

ROUND = "r1"


def add_round(app: App, round_id: str = ROUND) -> None:
    """A round open from 16 to 24 October 2025, with no parties, straight into the database."""
    with app.db.transaction() as session:
        session.add(
            RoundRow(
                id=round_id,
                title="T",
                subject="s",
                administration="A",
                consulted_body="B",
                opens=datetime(2025, 10, 16, tzinfo=UTC),
                deadline=datetime(2025, 10, 24, 21, 59, 59, tzinfo=UTC),
                reply_to="h@kk.example",
                documents=[],
                reminders=[],
                late_policy="flag",
                source_dir=".",
                spec_sha256="x",
            )
        )


def fetched(data: bytes, uid: int, received_at: datetime | None = None) -> FetchedMessage:
    """``data`` as fetched from IMAP: mailbox INBOX, UIDVALIDITY 7, this ``uid``."""
    return FetchedMessage(
        data=data,
        received_at=received_at or datetime(2025, 10, 20, tzinfo=UTC),
        received_from="internaldate",
        source="imap",
        source_name=f"INBOX/7/{uid}",
        mailbox="INBOX",
        uidvalidity=7,
        uid=uid,
    )
