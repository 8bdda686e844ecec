"""Collect: fetch raw, store raw first, then parse, classify, route, match and record.

Two phases with a commit between them. ``fetch`` stores each batch's bytes (fsynced blob, then
the row, unique on sha256 and on mailbox/UIDVALIDITY/UID) and the cursor in one transaction, and
only then lets the source move the messages on the server. ``process`` reads stored rows in
batches and records what they are; a message that keeps failing is quarantined, never lost.

Only one collector works at a time: ``collector_lease`` holds the ``collect`` lease for the
whole run. The inbox and the stored messages are shared by every round of an installation
(routing decides a message's round), so the lease is one per installation, not one per round.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flows.adapters.db.lease import Lease
from flows.adapters.ports import Batch, Cursor, MailSource
from flows.bootstrap import App
from flows.core.errors import CollectRunningError
from flows.core.model import RawState

MAX_ATTEMPTS = 3
LEASE_NAME = "collect"
_POLL_SECONDS = 0.5


@contextmanager
def collector_lease(app: App, round_id: str, *, wait_seconds: float | None = None) -> Iterator[Lease]:
    """Hold the collect lease while the body runs, renewed in the background, released after.

    Waits up to ``wait_seconds`` (default ``collect_wait_seconds``) for a running collect to
    end, then raises
    :class:`CollectRunningError`. A collect that was killed stops renewing: its lease runs out
    after ``collect_lease_seconds`` (at once on the same machine, where its pid is seen dead).
    """
    lease = Lease(app.db, LEASE_NAME, app.settings.collect_lease_seconds, round_id=round_id)
    wait = app.settings.collect_wait_seconds if wait_seconds is None else wait_seconds
    deadline = time.monotonic() + wait
    while (held := lease.try_take()) is not None:
        if time.monotonic() >= deadline:
            raise CollectRunningError(held.round_id, held.acquired_at)
        time.sleep(_POLL_SECONDS)
    lease.keep_alive()
    try:
        yield lease
    finally:
        lease.release()


@dataclass
class FetchReport:
    fetched: int = 0
    stored: int = 0
    already_stored: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of the fetch
    cpu_seconds: float = 0.0  # CPU time of the thread that fetched (the bench's figure)

    def add(self, other: FetchReport) -> None:
        self.fetched += other.fetched
        self.stored += other.stored
        self.already_stored += other.already_stored
        self.notes.extend(other.notes)


def fetch(app: App, on_stored: Callable[[list[int]], None] | None = None) -> FetchReport:
    """Every new message from the inbox and the drop folder, stored raw.

    ``on_stored`` gets the ids of each batch's new rows once their transaction has committed
    (``services.overlap`` processes them while the next batch is fetched).
    """
    report = FetchReport()
    wall, cpu = time.perf_counter(), time.thread_time()
    report.add(fetch_from(app, app.inbox(), on_stored))
    report.add(fetch_from(app, app.drop(), on_stored))
    report.seconds, report.cpu_seconds = time.perf_counter() - wall, time.thread_time() - cpu
    return report


def fetch_from(
    app: App, source: MailSource, on_stored: Callable[[list[int]], None] | None = None
) -> FetchReport:
    report = FetchReport()
    with source:
        cursor = _load_cursor(app, source)
        for batch in source.batches(cursor, app.settings.imap_batch):
            report.fetched += len(batch.messages)
            new = _store(app, batch)
            report.notes.extend(batch.notes)
            report.stored += len(new)
            report.already_stored += len(batch.messages) - len(new)
            # Housekeeping on the server happens only after the commit above.
            source.acknowledge(batch)
            if on_stored is not None and new:
                on_stored(new)
    return report


def _load_cursor(app: App, source: MailSource) -> Cursor | None:
    mailbox = getattr(source, "mailbox_key", None)
    if not mailbox:
        return None
    with app.uow() as uow:
        return uow.responses.cursor(mailbox)


def store_batch(app: App, batch: Batch) -> int:
    """Blobs first (fsynced), then rows and cursor in one transaction; returns rows inserted."""
    return len(_store(app, batch))


def _store(app: App, batch: Batch) -> list[int]:
    """``store_batch``, returning the new rows' ids (committed when this returns)."""
    if not batch.messages and batch.cursor is None:
        return []
    now = app.now()
    rows: list[dict[str, Any]] = []
    blobs = _blobs(batch)
    stored = app.raw_store.put_many(blobs)
    for message, (sha256, path, size) in zip(batch.messages, stored, strict=True):
        rows.append(
            {
                "sha256": sha256,
                "size": size,
                "path": str(path),
                "source": message.source,
                "source_name": message.source_name[:2000],
                "mailbox": message.mailbox,
                "uidvalidity": message.uidvalidity,
                "uid": message.uid,
                "received_at": message.received_at or now,
                "received_from": message.received_from if message.received_at else "collected",
                "collected_at": now,
                "state": RawState.STORED.value,
                "attempts": 0,
            }
        )
    with app.uow() as uow:
        inserted = uow.responses.insert_raw(rows)
        if batch.cursor is not None:
            uow.responses.save_cursor(batch.cursor, app.now())
        if inserted:
            uow.events.add(None, "collect", "stored", count=len(inserted))
    return inserted


def _blobs(batch: Batch) -> list[bytes | Iterator[bytes]]:
    """Each message's bytes, or for a large one its stream, opened now.

    A local file that cannot be opened any more (replaced by a link, removed) is left out of the
    batch, so it is neither stored nor moved on: it stays where it is and ``status`` shows it.
    With a cursor (IMAP) nothing may be left out, as the cursor moves past the whole batch.
    """
    blobs: list[bytes | Iterator[bytes]] = []
    kept = []
    for message in batch.messages:
        if message.stream is None:
            blobs.append(message.data)
            kept.append(message)
            continue
        try:
            blobs.append(message.stream())
        except OSError as exc:
            if batch.cursor is not None:
                raise
            why = exc.strerror or str(exc.args[0] if exc.args else type(exc).__name__)  # never the file name
            batch.notes.append(f"{message.source}: en fil kunne ikke åbnes igen ({why})")
            continue
        kept.append(message)
    batch.messages[:] = kept  # acknowledge() sees only what was stored
    return blobs


def pending_raw_ids(app: App, *, limit: int | None = None) -> list[int]:
    """Stored messages not yet processed, oldest first."""
    with app.uow() as uow:
        return uow.responses.pending_raw_ids(MAX_ATTEMPTS, limit)


def chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
