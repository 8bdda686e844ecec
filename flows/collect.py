"""Flow: fetch new mail and files, store them raw, and parse, classify and match them in batches."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from prefect import flow, get_run_logger, task, unmapped

from flows.adapters.drop_source import left_behind
from flows.artifacts import publish, tag_run
from flows.bootstrap import App
from flows.core.errors import CollectRunningError
from flows.core.model import OutboxPurpose
from flows.notify import alert_contact
from flows.runtime import PLAIN, RETRY, batch_runner, get_app, run_name
from flows.schedules import check_round_schedule
from flows.services import collecting, ingesting, status
from flows.services.outbox import deliver
from flows.services.overlap import fetch_and_process
from flows.settings import Settings
from flows.work_pool import WorkPoolError, run_on_pool

MAX_BATCH_TASKS = 50
COLLECT_TIMEOUT_SECONDS = 4 * 3600
"""A backstop, far above a national round's collection: a run that hangs (a server gone quiet
mid-call) ends TimedOut instead of holding the collect deployment's one slot for ever. Every
socket hoering opens has its own timeout (HOERING_SOCKET_TIMEOUT); Prefect's client has its own."""


@task(name="fetch and store raw", **RETRY)
def fetch_raw(
    now: str | None, on_stored: Callable[[list[int]], None] | None = None
) -> collecting.FetchReport:
    """``on_stored`` gets each stored batch's ids after its commit (the overlapped collect)."""
    return collecting.fetch(get_app(now), on_stored=on_stored)


def _fetched(app: App, report: collecting.FetchReport) -> dict[str, Any]:
    return {
        "fetched": report.fetched,
        "stored": report.stored,
        "already_stored": report.already_stored,
        "notes": report.notes,
        "left_in_drop": len(left_behind(app.settings.resolved_drop_dir)),
    }


@task(name="list stored messages", **PLAIN)
def stored_message_ids(now: str | None) -> list[int]:
    return collecting.pending_raw_ids(get_app(now))


@task(name="process a batch", **PLAIN)
def process_batch(round_id: str, raw_ids: list[int], now: str | None) -> dict[str, Any]:
    report = ingesting.process_batch(get_app(now), round_id, raw_ids)
    return {
        "processed": report.processed,
        "responses": report.responses,
        "set_aside": report.set_aside,
        "quarantined": report.quarantined,
        "by_kind": report.by_kind,
        "problems": report.problems,
    }


@task(name="check the round's schedule", **PLAIN)
def check_schedule(round_id: str, now: str | None) -> dict[str, Any]:
    return check_round_schedule(round_id, now)


@task(name="record the collection", **PLAIN)
def mark_collected(round_id: str, now: str | None, stored: int, processed: int) -> None:
    status.record_collected(get_app(now), round_id, stored=stored, processed=processed)


@task(name="send receipts", **RETRY)
def send_receipts(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(
        get_app(now), round_id, purposes=(OutboxPurpose.RECEIPT, OutboxPurpose.TEMPLATE_REJECTED)
    )
    return {"sent": report.sent, "failed": report.perm_failed + report.temp_failed}


def fan_out_batch(settings: Settings, stored: int) -> int:
    """Messages per batch when ``stored`` messages are fanned out over processes or a work pool.

    At least HOERING_INGEST_BATCH, or HOERING_WORK_POOL_BATCH on a pool, where each run starts a
    fresh process on its worker (about 8 s of imports, against 2.4 s of work for 500 messages);
    and never more than MAX_BATCH_TASKS batches: a national mailbox gets bigger batches.
    """
    least = settings.work_pool_batch if settings.work_pool else settings.ingest_batch
    return max(least, math.ceil(stored / MAX_BATCH_TASKS))


def collect_steps(round_id: str, now: str | None) -> dict[str, Any]:
    """The steps of a collection, shared by the collect and close flows."""
    app = get_app(now)
    totals: dict[str, Any] = {
        "processed": 0,
        "responses": 0,
        "set_aside": 0,
        "quarantined": 0,
        "problems": [],
    }
    failed: list[str] = []
    chunks: list[list[int]] = []
    if app.settings.work_pool or app.settings.batch_processes > 0:
        fetched = _fetched(app, fetch_raw(now))
        ids = stored_message_ids(now)
        chunks = collecting.chunks(ids, fan_out_batch(app.settings, len(ids)))
        if app.settings.work_pool and chunks:
            # Several machines: each batch a process-batch run on any worker (flows/work_pool.py).
            results, failed = run_on_pool(round_id, chunks, now)
        else:
            # a process pool for a national round on one machine (deployments/README.md)
            results = [f.result() for f in process_batch.map(unmapped(round_id), chunks, unmapped(now))]
    else:
        # One machine, the default: each batch is processed (a task run each) while the next is
        # fetched and stored, instead of all the fetching first (services/overlap.py).
        report, results = fetch_and_process(
            app,
            lambda ids: process_batch(round_id, ids, now),
            app.settings.ingest_batch,
            fetch=lambda on_stored: fetch_raw(now, on_stored),
        )
        fetched = _fetched(app, report)
    for result in results:
        for key in ("processed", "responses", "set_aside", "quarantined"):
            totals[key] += result[key]
        totals["problems"].extend(result["problems"])
    receipts = send_receipts(round_id, now)
    if failed:  # what went through is recorded and receipted; the rest waits for the next collect
        raise WorkPoolError(
            f"{len(failed)} af indsamlingens {len(chunks)} batches blev ikke behandlet, og deres beskeder "
            "venter til næste indsamling: " + "; ".join(failed[:5])
        )
    mark_collected(round_id, now, fetched["stored"], totals["processed"])
    return {**fetched, **totals, "receipts": receipts["sent"]}


@flow(
    name="hoering-collect",
    flow_run_name=run_name("collect"),
    timeout_seconds=COLLECT_TIMEOUT_SECONDS,
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
    task_runner=batch_runner(),
)
def collect(round_id: str, now: str | None = None) -> dict[str, Any]:
    """One collection; ``{"skipped": reason}`` when another collect holds the lease.

    A skipped run completes (it is not a failure: the running collect fetches the mail, and the
    next scheduled one follows in 15 minutes), says why in its log, and alerts no one. The
    command line exits 75 (EX_TEMPFAIL) for it.
    """
    tag_run(round_id)
    app = get_app(now)
    with app.uow() as uow:
        uow.rounds.get(round_id)  # an unknown round fails here, before any mail is touched
    check_schedule(round_id, now)  # with a server: put back a missing close run, reminder, schedule
    try:
        with collecting.collector_lease(app, round_id):
            result = collect_steps(round_id, now)
    except CollectRunningError as busy:
        get_run_logger().warning("Springet over: %s", busy)
        return {"skipped": str(busy)}
    publish(round_id, app, step="indsamling")
    return result
