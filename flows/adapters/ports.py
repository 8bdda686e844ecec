"""The small interfaces between the use cases and the outside world.

Each has a real adapter (one module each) and, in tests, a fake. They are wired in one place:
``flows.bootstrap``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from flows.core.model import SendResult

__all__ = ["Batch", "ByteStream", "Cursor", "FetchedMessage", "MailSource", "Mailer", "SendResult"]

# Opens the whole bytes of a large item as chunks; raises OSError when the source cannot be opened.
ByteStream = Callable[[], Iterator[bytes]]


@dataclass(frozen=True)
class FetchedMessage:
    """Bytes as a source handed them over, with our side's time of receipt.

    A large item is never held in memory whole: ``stream`` is set, ``data`` holds only its head
    (enough for the headers), and the store reads the whole bytes from ``stream`` in chunks.
    """

    data: bytes
    received_at: datetime | None
    received_from: str
    source: str
    source_name: str
    mailbox: str | None = None
    uidvalidity: int | None = None
    uid: int | None = None
    stream: ByteStream | None = None
    # the file the bytes came from, for a source that moves it once they are stored (drop/)
    local_file: Path | None = None


@dataclass(frozen=True)
class Cursor:
    """How far a mailbox has been read: (mailbox, UIDVALIDITY, last UID)."""

    mailbox: str
    uidvalidity: int
    last_uid: int


@dataclass
class Batch:
    """Messages to store in one transaction; ``cursor`` is committed with them."""

    messages: list[FetchedMessage]
    cursor: Cursor | None = None
    notes: list[str] = field(default_factory=list)


class MailSource(Protocol):
    """Where mail comes from (IMAP, Maildir, the drop folder)."""

    name: str

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        """New messages in batches, oldest first; nothing on the server changes here."""
        ...

    def acknowledge(self, batch: Batch) -> None:
        """Housekeeping after the batch is committed (move to a processed folder)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Mailer(Protocol):
    """Where mail goes (SMTP, or ``.eml`` files in the outbox folder)."""

    def send(self, message: EmailMessage, recipient: str) -> SendResult: ...

    def close(self) -> None: ...
