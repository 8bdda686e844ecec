"""Flow: fetch new mail and files, store them raw, then parse, classify and match in batches."""

from __future__ import annotations

import math
from typing import Any

from prefect import flow, get_run_logger, task, unmapped

from flows.artifacts import publish, tag_run
from flows.notify import alert_contact
from flows.runtime import PLAIN, RETRY, batch_runner, get_app, run_name
from flows.services import collecting, ingesting
from flows.services.outbox import deliver
from flows.services.rounds import get_round

MAX_BATCH_TASKS = 50


@task(name="fetch and store raw", **RETRY)
def fetch_raw(now: str | None) -> dict[str, Any]:
    report = collecting.fetch(get_app(now))
    return {
        "fetched": report.fetched,
        "stored": report.stored,
        "already_stored": report.already_stored,
        "notes": report.notes,
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


@task(name="send receipts", **RETRY)
def send_receipts(round_id: str, now: str | None) -> dict[str, Any]:
    report = deliver(get_app(now), round_id, purposes=("receipt", "template_rejected"))
    return {"sent": report.sent, "failed": report.perm_failed + report.temp_failed}


def collect_steps(round_id: str, now: str | None) -> dict[str, Any]:
    """The steps of a collection, shared by the collect and close flows."""
    fetched = fetch_raw(now)
    ids = stored_message_ids(now)
    # Batches of at least HOERING_INGEST_BATCH, and never more than MAX_BATCH_TASKS task runs per
    # collection: a national mailbox gets bigger batches, not thousands of task runs.
    batch = max(get_app(now).settings.ingest_batch, math.ceil(len(ids) / MAX_BATCH_TASKS))
    totals: dict[str, Any] = {
        "processed": 0,
        "responses": 0,
        "set_aside": 0,
        "quarantined": 0,
        "problems": [],
    }
    # One task per batch, fanned out over the flow's task runner: threads by default, a process
    # pool for a national round (deployments/README.md). Parsing runs outside transactions.
    chunks = collecting.chunks(ids, batch)
    for future in process_batch.map(unmapped(round_id), chunks, unmapped(now)):
        result = future.result()
        for key in ("processed", "responses", "set_aside", "quarantined"):
            totals[key] += result[key]
        totals["problems"].extend(result["problems"])
    receipts = send_receipts(round_id, now)
    return {**fetched, **totals, "receipts": receipts["sent"]}


@flow(
    name="hoering-collect",
    flow_run_name=run_name("collect"),
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
    with app.db.transaction() as session:
        get_round(session, round_id)  # an unknown round fails here, before any mail is touched
    try:
        with collecting.collector_lease(app, round_id):
            result = collect_steps(round_id, now)
    except collecting.CollectRunningError as busy:
        get_run_logger().warning("Springet over: %s", busy)
        return {"skipped": str(busy)}
    publish(round_id, app, step="indsamling")
    return result
