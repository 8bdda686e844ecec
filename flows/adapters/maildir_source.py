"""The embedded inbox: a Maildir on local disk.

Receipt time is what our side recorded: the topmost ``Received:`` header when it was written by
our own server, else the delivery time (the timestamp at the start of the Maildir file name, or
the file's mtime). A ``Received:`` header is taken for ours only when its date lies just before
the delivery time (``deadline.believable_received``): a sender who writes its own, backdated
``Received:`` on top — possible where the delivering agent adds none — is not believed.
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
from flows.core.deadline import believable_received


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
            delivered = path.stat().st_mtime
        except FileNotFoundError:  # moved from new/ to cur/ by a mail client: read there next run
            return None
        received_at, how = receipt_time(data, path.name, delivered)
        return FetchedMessage(
            data=data,
            received_at=received_at,
            received_from=how,
            source="maildir",
            source_name=path.name,
            stream=None if whole else functools.partial(file_chunks, path, identity),
        )


def receipt_time(data: bytes, file_name: str, mtime: float | None = None) -> tuple[datetime | None, str]:
    """(time, how it was found): ``how`` is kept on the raw record (``received_from``).

    "received-header": our Received: header, checked against the delivery time;
    "maildir-filename" / "maildir-mtime": the delivery time, with ";received-early" or
    ";received-late" added when a Received: header was there but outside the window (so not
    ours); "collected": nothing to go by (the collect time is used).
    """
    delivered, source = _delivery_time(file_name, mtime)
    stamp = _topmost_received(data)
    if stamp is not None and (delivered is None or believable_received(stamp, delivered)):
        return stamp, "received-header"
    if delivered is None:
        return None, "collected"
    if stamp is None:
        return delivered, source
    return delivered, f"{source};received-{'early' if stamp < delivered else 'late'}"


def _delivery_time(file_name: str, mtime: float | None) -> tuple[datetime | None, str]:
    match = re.match(r"(\d{9,11})(?:\.|_)", file_name)
    if match:
        return datetime.fromtimestamp(int(match.group(1)), UTC), "maildir-filename"
    if mtime is not None:
        return datetime.fromtimestamp(mtime, UTC), "maildir-mtime"
    return None, "collected"


def _topmost_received(data: bytes) -> datetime | None:
    try:
        # Only the header block goes to the parser: ``headersonly`` still line-splits (and
        # copies) all the bytes it is fed, which was a fifth of the fetch stage's CPU.
        headers = BytesHeaderParser().parsebytes(header_block(data[: 256 * 1024]))
        received = headers.get_all("Received") or []
    except Exception:
        return None
    if not received:
        return None
    stamp = str(received[0]).rpartition(";")[2].strip()
    try:
        moment = parsedate_to_datetime(stamp)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def header_block(data: bytes) -> bytes:
    """``data`` up to and including the first blank line (all of it when there is none).

    The cut is never before the parser's own end of the headers (a blank line ends them, or an
    earlier line that is not a header), so the parsed headers are exactly those of ``data``.
    """
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    return data[: min(ends) + 2] if ends else data
