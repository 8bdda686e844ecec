"""Parse stored messages on every core.

Parsing (the stdlib ``email`` package, HTML to text, attachment inspection) is about three
quarters of processing a message and holds the GIL, so threads cannot share it out. A large batch
is parsed by a pool of worker processes instead; each worker reads the stored bytes itself and
writes the attachments to the file store, so only file paths go out and ``ParsedMessage``
objects without attachment bytes come back. File writes then overlap the batch's database work.

Workers start with ``spawn``: forking a process that runs Prefect's or SQLAlchemy's threads can
copy a held lock. A worker that dies (the pool is then broken) never loses a message: the rest of
the batch is parsed again in the calling process, which is exactly what a small batch does anyway.
Each worker ends itself when the calling process is gone (``lifeline.watch_parent``).

A worker killed while it writes its result leaves half a message in the result pipe: the pool's
manager thread then waits for the rest forever (the other workers hold the pipe open), and the
stdlib never reports the pool broken. So results are awaited a second at a time; when a worker
has died and the pool still has not said so after ``_BROKEN_GRACE_SECONDS``, the other workers
are killed too. That closes the pipe, the manager sees the end of it and breaks the pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.adapters.dropped import parse_dropped_file, parse_too_large
from flows.adapters.lifeline import watch_parent
from flows.adapters.mailparse import parse_message
from flows.adapters.raw_store import HEAD_BYTES, RawStore
from flows.core.message import ParsedMessage

log = logging.getLogger(__name__)

# Below this many messages a pool costs more (pickling, a worker's first imports) than it saves.
POOL_MIN_MESSAGES = 64
_BROKEN_GRACE_SECONDS = 3.0


@dataclass(frozen=True)
class StoredMessage:
    """Where one raw message lies and how it came in (mail or a file staff dropped)."""

    path: str
    source: str
    name: str
    size: int | None = None


def parse_stored(item: StoredMessage, max_bytes: int) -> ParsedMessage:
    """Read and parse one stored message. Raises only when the stored file cannot be read.

    Over ``max_bytes`` only the head is read (a 300 MB message is never loaded into memory).
    """
    size = item.size if item.size is not None else Path(item.path).stat().st_size
    if size > max_bytes:
        with Path(item.path).open("rb") as handle:
            head = handle.read(HEAD_BYTES)
        return parse_too_large(item.name, item.source, head, size)
    data = Path(item.path).read_bytes()
    if item.source == "drop":
        return parse_dropped_file(item.name, data, max_bytes=max_bytes)
    return parse_message(data, max_bytes=max_bytes)


def parse_all(
    items: Sequence[StoredMessage], max_bytes: int, workers: int, files_dir: Path | None = None
) -> Iterator[ParsedMessage | Exception]:
    """Each item parsed, in order; a failure is yielded as its exception, never raised.

    With ``files_dir``, attachment bytes are written to that file store where they are parsed.
    """
    folder = None if files_dir is None else str(files_dir)
    pool = _pool(workers) if workers > 1 and len(items) >= POOL_MIN_MESSAGES else None
    if pool is None:
        yield from (_parse_or_error(item, max_bytes, folder) for item in items)
        return
    chunk = max(1, min(32, len(items) // (workers * 4)))
    done = 0
    try:
        futures = [
            pool.submit(_parse_chunk, items[start : start + chunk], max_bytes, folder)
            for start in range(0, len(items), chunk)
        ]
        for future in futures:
            for result in _result(pool, future):
                done += 1
                yield result
    except BrokenProcessPool:
        log.warning("a parse worker died; parsing the rest of the batch in this process")
        _forget(workers)
        yield from (_parse_or_error(item, max_bytes, folder) for item in items[done:])


def _unblock(pool: ProcessPoolExecutor, processes: dict[int, Any]) -> None:
    """End every worker and close this process's end of the result pipe (3.11-3.13 internals).

    The manager thread then reads end-of-file instead of waiting for the rest of a half-written
    result, and breaks the pool; without this it would also hang this process's exit (the
    stdlib joins that thread at exit).
    """
    for process in list(processes.values()):
        process.kill()
    for process in list(processes.values()):
        process.join()
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _parse_chunk(
    items: Sequence[StoredMessage], max_bytes: int, files_dir: str | None
) -> list[ParsedMessage | Exception]:
    return [_parse_or_error(item, max_bytes, files_dir) for item in items]


def _result(pool: ProcessPoolExecutor, future: Future[list[ParsedMessage | Exception]]) -> Any:
    """The future's result; BrokenProcessPool, never a hang, when a worker died (see above)."""
    died_at: float | None = None
    killed = False
    while not wait([future], timeout=1.0).done:
        processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
        if died_at is None and any(p.exitcode is not None for p in list(processes.values())):
            died_at = time.monotonic()
        if died_at is None or time.monotonic() - died_at < _BROKEN_GRACE_SECONDS:
            continue
        if killed:  # the pool did not break even with every worker gone: give up on it
            raise BrokenProcessPool("a parse worker died and the pool did not recover")
        log.warning("a parse worker died mid-result; stopping the others so the pool breaks")
        _unblock(pool, processes)
        died_at, killed = time.monotonic(), True
    return future.result()


def _parse_or_error(item: StoredMessage, max_bytes: int, files_dir: str | None) -> ParsedMessage | Exception:
    try:
        parsed = parse_stored(item, max_bytes)
    except Exception as exc:  # recorded on the message by the caller
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that cannot cross back to the parent process
            return RuntimeError(f"{type(exc).__name__}: {exc}")
        return exc
    if files_dir is not None:
        store_attachments(parsed, _file_store(files_dir))
    return parsed


def store_attachments(parsed: ParsedMessage, store: RawStore) -> None:
    """Put attachment bytes in the file store and drop them from ``parsed``.

    A write that fails (a full disk) leaves the bytes where they are: the batch's process then
    writes them itself and fails the batch, to be retried, rather than the message being judged
    unreadable.
    """
    for attachment in parsed.attachments:
        if attachment.data and attachment.stored_path is None:
            try:
                _sha, path = store.put(attachment.data, durable=False)
            except OSError:
                log.warning("could not store an attachment of %s here", parsed.message_id or "a message")
                continue
            attachment.stored_path, attachment.data = str(path), b""


_stores: dict[str, RawStore] = {}


def _file_store(folder: str) -> RawStore:
    # one store per folder and process, so the store's cache of made folders is kept
    if folder not in _stores:
        _stores[folder] = RawStore(Path(folder))
    return _stores[folder]


_pools: dict[int, ProcessPoolExecutor] = {}
_lock = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    with _lock:
        if workers not in _pools:
            context = multiprocessing.get_context("spawn")
            _pools[workers] = ProcessPoolExecutor(
                max_workers=workers, mp_context=context, initializer=watch_parent, initargs=(os.getpid(),)
            )
        return _pools[workers]


def _forget(workers: int) -> None:
    with _lock:
        pool = _pools.pop(workers, None)
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
