"""Flow: one batch of a collect, run by any worker of the work pool (HOERING_WORK_POOL).

The collect (or close) that stored the mail starts one run of this flow per batch and waits for
them (flows/work_pool.py). A run first checks that this worker can read every stored message of
its batch: the raw store and file store must be on a path all workers mount. If it cannot, the
run fails with the reason and touches nothing, so the messages stay ``stored`` and the next
collect takes them (no attempt is counted against them: the fault is the worker's, not theirs).
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from prefect import flow, runtime

from flows.core.errors import HoeringError
from flows.runtime import get_app
from flows.services import ingesting

BATCH_TIMEOUT_SECONDS = 4 * 3600
"""A backstop like the collect's; the collect gives up on a batch far sooner (batch_run_timeout)."""


class BatchUnreadableError(HoeringError):
    """This worker cannot see the shared raw store: the batch is left for another run."""


def batch_run_name() -> str:
    parameters: dict[str, Any] = runtime.flow_run.parameters or {}
    ids = parameters.get("raw_ids") or [0]
    return f"batch · {parameters.get('round_id', '?')} · {min(ids)}–{max(ids)}"


def check_readable(raw_ids: list[int], now: str | None) -> int:
    """How many of the batch's messages wait; raises when this worker cannot read one of them."""
    app = get_app(now)
    with app.uow() as uow:
        files = uow.batches.waiting_files(raw_ids)
    unreadable = [raw_id for raw_id, path in files if not os.access(path, os.R_OK)]
    if unreadable:
        raise BatchUnreadableError(
            f"workeren på {socket.gethostname()} kan ikke læse {len(unreadable)} af batchens "
            f"{len(files)} gemte beskeder (fx besked {unreadable[0]}) under {app.settings.raw_dir}. "
            "Råarkivet og fillageret (HOERING_DATA_DIR) skal ligge på en sti, som alle workers har "
            "monteret samme sted. Batchen er ikke behandlet; beskederne venter til næste indsamling"
        )
    return len(files)


@flow(name="hoering-process-batch", flow_run_name=batch_run_name, timeout_seconds=BATCH_TIMEOUT_SECONDS)
def process_batch(round_id: str, raw_ids: list[int], now: str | None = None) -> dict[str, Any]:
    """Parse, classify, match and record one batch of stored messages; counts as in the database."""
    started = datetime.now(UTC)  # the real clock, also under --now: what the run took
    waiting = check_readable(raw_ids, now)
    app = get_app(now)
    report = ingesting.process_batch(app, round_id, raw_ids)
    with app.uow() as uow:
        # Which worker ran which batch: its host, and the worker process that started this run.
        uow.events.add(
            round_id,
            "collect",
            "batch",
            host=socket.gethostname(),
            pid=os.getpid(),
            worker_pid=os.getppid(),
            messages=waiting,
            processed=report.processed,
            started=started.isoformat(),
            ended=datetime.now(UTC).isoformat(),
        )
    return {"processed": report.processed, "responses": report.responses, "waiting": waiting}
