"""Fetch and process at once: batch N is parsed and written while batch N+1 is fetched and stored.

Fetching (read the mailbox, write the blobs, commit the raw rows) and processing (parse, judge,
write) took turns: at 1M messages on SQLite the fetch ran at 3,175/s and the processing at 992/s,
one after the other, so ingest ran at 758/s. Here a fetcher thread stores batch after batch and
hands each committed batch's ids over a bounded queue; the calling thread gathers them into
processing batches. The crash-safety rules are those of the two phases:

* an id reaches the queue only after the transaction that stored its raw row has committed
  (``collecting.fetch`` calls back after the commit), so nothing is parsed that is not stored;
* a SIGKILL anywhere leaves stored rows ``stored`` (the next collect processes them) and
  processed ones processed; the fetcher is a thread of this process, so nothing is left behind;
* a fetch that fails stops the processing at the next batch boundary and is raised, after the
  batches already taken are done (their rows are committed and stay so).

Messages stored by an earlier run and still waiting are processed first, and one last look for
waiting rows at the end takes any the queue did not bring; an id is handed to ``process`` at most
once per call, so a message that fails is tried once per collect, as before.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from flows.bootstrap import App
from flows.services import collecting

log = logging.getLogger(__name__)
T = TypeVar("T")
_PUT_WAIT_SECONDS = 0.5
Fetch = Callable[[Callable[[list[int]], None]], collecting.FetchReport]
"""How to fetch: given the after-commit callback, fetch everything and return the report."""


class _Done:
    """The fetcher's last word: its report, or the exception that ended it."""

    def __init__(self, report: collecting.FetchReport | None, error: BaseException | None) -> None:
        self.report, self.error = report, error


class _Stopped(Exception):
    """The consumer gave up (it raised): the fetcher stops after its current commit."""


def fetch_and_process(
    app: App,
    process: Callable[[list[int]], T],
    batch: int,
    *,
    ahead: int = 4,
    fetch: Fetch | None = None,
) -> tuple[collecting.FetchReport, list[T]]:
    """Fetch everything new while processing stored ids ``batch`` at a time; the fetch report and
    ``process``'s results, in the order the batches were processed.

    ``ahead`` bounds how many stored fetch batches may wait for the processing. ``fetch`` is
    ``collecting.fetch`` unless given (the collect flow passes its Prefect task, with its
    retries); it runs in the fetcher thread in a copy of the caller's context, so a Prefect task
    called there belongs to the caller's flow run.
    """
    handed: set[int] = set()
    results: list[T] = []
    waiting = collecting.pending_raw_ids(app)  # stored by an earlier run, not processed yet
    inbox: queue.Queue[list[int] | _Done] = queue.Queue(maxsize=max(1, ahead))
    stop = threading.Event()
    run_fetch: Fetch = fetch or (lambda on_stored: collecting.fetch(app, on_stored=on_stored))
    context = contextvars.copy_context()
    fetcher = threading.Thread(
        target=context.run, args=(_fetch, run_fetch, inbox, stop), name="hoering-fetch", daemon=True
    )
    fetcher.start()
    done: _Done | None = None
    try:
        while done is None:
            while len(waiting) >= batch:
                results.append(_hand(process, waiting[:batch], handed))
                waiting = waiting[batch:]
            item = inbox.get()
            if isinstance(item, _Done):
                done = item
            else:
                waiting.extend(item)
        if done.error is not None:
            raise done.error
        # The rest, with whatever else waits (a row the queue did not bring), in batches.
        rest = [i for i in dict.fromkeys([*waiting, *collecting.pending_raw_ids(app)]) if i not in handed]
        for start in range(0, len(rest), batch):
            results.append(_hand(process, rest[start : start + batch], handed))
    finally:
        stop.set()
        fetcher.join()
    return done.report or collecting.FetchReport(), results


def _hand(process: Callable[[list[int]], T], ids: list[int], handed: set[int]) -> T:
    fresh = [i for i in ids if i not in handed]
    handed.update(fresh)
    return process(fresh)


def _fetch(fetch: Fetch, inbox: queue.Queue[list[int] | _Done], stop: threading.Event) -> None:
    def stored(ids: list[int]) -> None:  # called after the batch's commit
        if not _put(inbox, ids, stop):
            raise _Stopped

    try:
        report = fetch(stored)
    except _Stopped:
        return
    except BaseException as exc:  # handed to the consumer, which raises it (the CLI says it once)
        log.debug("fetch failed: %s", type(exc).__name__)
        _put(inbox, _Done(None, exc), stop)
        return
    _put(inbox, _Done(report, None), stop)


def _put(inbox: queue.Queue[list[int] | _Done], item: list[int] | _Done, stop: threading.Event) -> bool:
    """Wait for room in the queue until the consumer stops; whether ``item`` went in."""
    while not stop.is_set():
        try:
            inbox.put(item, timeout=_PUT_WAIT_SECONDS)
            return True
        except queue.Full:
            continue
    return False
