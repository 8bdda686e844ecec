"""Turn stored raw messages into classified, matched, recorded items of a round.

A batch is read in one short transaction, parsed outside any transaction (by worker processes
when it is large), judged (``services.judging``), and written ``WRITE_EVERY`` messages per
transaction with bulk statements (``services.recording``) while the rest is still parsing. If
a write fails, each of its messages is written on its own, so one bad message is quarantined
after ``MAX_ATTEMPTS`` tries and never stops the batch.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.parse_pool import StoredMessage, parse_all
from flows.bootstrap import App
from flows.core.model import Kind
from flows.core.responses import TOO_LARGE_TEXT as TOO_LARGE_TEXT  # the placeholder tests look for
from flows.services.collecting import MAX_ATTEMPTS
from flows.services.judging import IngestContext, Item, judge, load_context
from flows.services.recording import write

log = logging.getLogger(__name__)
# Messages per write transaction: the workers parse the next slice while this one is written.
WRITE_EVERY = 125


@dataclass
class ProcessReport:
    processed: int = 0
    responses: int = 0
    set_aside: int = 0
    quarantined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def process_batch(app: App, collecting_round: str, raw_ids: list[int]) -> ProcessReport:
    """Read, parse on every core, judge, and write in slices while the rest is still parsing."""
    report = ProcessReport()
    with app.uow() as uow:
        ctx = load_context(uow, app.settings.sender_address)
        raws = uow.responses.stored(raw_ids)
    failed: list[tuple[int, Exception]] = []
    stored = [StoredMessage(raw.path, raw.source, raw.name, raw.size) for raw in raws]
    parsed_all = parse_all(
        stored, app.settings.max_message_bytes, app.settings.parse_workers_in_use, app.settings.files_dir
    )
    pairs = zip(raws, parsed_all, strict=True)
    while part := list(itertools.islice(pairs, WRITE_EVERY)):
        items: list[Item] = []
        for raw, parsed in part:
            try:
                if isinstance(parsed, Exception):
                    raise parsed
                items.append(judge(app, ctx, raw, parsed, collecting_round))
            except Exception as exc:  # recorded on the row below, never raised
                failed.append((raw.id, exc))
        for item in _write_all(app, ctx, items, failed):
            report.processed += 1
            report.by_kind[item.kind] = report.by_kind.get(item.kind, 0) + 1
            report.responses += int(item.kind == Kind.RESPONSE.value)
            report.set_aside += int(item.kind != Kind.RESPONSE.value)
    if failed:
        with app.uow() as uow:
            for raw_id, problem in failed:
                _record_failure(uow, raw_id, problem, collecting_round, report)
    return report


def _write_all(
    app: App, ctx: IngestContext, items: list[Item], failed: list[tuple[int, Exception]]
) -> list[Item]:
    try:
        with app.uow() as uow:
            write(uow, app, ctx, items)
    except Exception as error:  # find the message that broke the batch: write them one by one
        log.warning("batch write failed (%s); writing its %d messages one by one", error, len(items))
        return _write_one_by_one(app, ctx, items, failed)
    return items


def _write_one_by_one(
    app: App, ctx: IngestContext, items: list[Item], failed: list[tuple[int, Exception]]
) -> list[Item]:
    written: list[Item] = []
    for item in items:
        item.reset()
        try:
            with app.uow() as uow:
                write(uow, app, ctx, [item])
            written.append(item)
        except Exception as exc:  # this one is the poison; the rest go on
            failed.append((item.raw.id, exc))
    return written


def _record_failure(
    uow: UnitOfWork, raw_id: int, exc: Exception, collecting_round: str, report: ProcessReport
) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = uow.responses.count_failure(raw_id, error)
    if attempts is None:
        # Another run processed it meanwhile (a race it won, not a fault of the message): no
        # attempt is counted against it.
        return
    if attempts >= MAX_ATTEMPTS:
        uow.responses.quarantine(raw_id)
        report.quarantined += 1
        uow.events.add(collecting_round, "collect", "quarantined", raw_id=raw_id, error=error)
    report.problems.append(f"besked {raw_id}: {error}")
    log.warning("message %s could not be processed: %s", raw_id, error)
