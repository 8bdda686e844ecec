"""The embedded inbox: a Maildir on local disk.

Receipt time is what our side recorded: the topmost ``Received:`` header (written by our own
server), or else the delivery time at the start of the Maildir file name.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from flows.adapters.ports import Batch, Cursor, FetchedMessage
from flows.adapters.raw_store import file_chunks, read_file


class MaildirSource:
    """Reads ``new/`` and ``cur/``; files are left in place (sha256 makes rereads no-ops)."""

    name = "maildir"

    def __init__(self, path: Path, known: Callable[[], set[str]] | None = None) -> None:
        self.path = path
        self.known = known

    def __enter__(self) -> Self:
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        """Files not stored before (by name; a renamed file is caught by its sha256)."""
        known = self.known() if self.known else set()
        files = sorted(
            (
                p
                for sub in ("new", "cur")
                for p in (self.path / sub).iterdir()
                # a link is never followed: our delivery agent writes none
                if p.is_file() and not p.is_symlink() and p.name not in known
            ),
            key=lambda p: p.name,
        )
        for start in range(0, len(files), size):
            read = (self._read(p) for p in files[start : start + size])
            yield Batch([m for m in read if m is not None])

    def acknowledge(self, batch: Batch) -> None:
        return None

    def _read(self, path: Path) -> FetchedMessage | None:
        # Whole when small; a large message keeps only its head here and is streamed whole
        # into the raw store (never cut: the size limit is the parser's, not the store's).
        try:
            data, whole, identity = read_file(path)
        except FileNotFoundError:  # moved from new/ to cur/ by a mail client: read there next run
            return None
        received_at, how = receipt_time(data, path.name)
        return FetchedMessage(
            data=data,
            received_at=received_at,
            received_from=how,
            source="maildir",
            source_name=path.name,
            stream=None if whole else functools.partial(file_chunks, path, identity),
        )


def receipt_time(data: bytes, file_name: str) -> tuple[datetime | None, str]:
    """Topmost Received: date, else the Maildir delivery time, else unknown (collection time)."""
    try:
        headers = BytesHeaderParser().parsebytes(data[: 256 * 1024])
        received = headers.get_all("Received") or []
    except Exception:
        received = []
    if received:
        stamp = str(received[0]).rpartition(";")[2].strip()
        try:
            moment = parsedate_to_datetime(stamp)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment.astimezone(UTC), "received-header"
    match = re.match(r"(\d{9,11})(?:\.|_)", file_name)
    if match:
        return datetime.fromtimestamp(int(match.group(1)), UTC), "maildir-filename"
    return None, "collected"
