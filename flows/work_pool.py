"""A collect's batches as runs of the ``process-batch`` deployment, on any worker of a work pool.

Used when HOERING_WORK_POOL is set. Each batch becomes a sub-flow run started with
``run_deployment`` (visible on its own in the dashboard, under the collect), at most
HOERING_WORK_POOL_RUNS at a time. The collect polls them and reads what each did from hoering's
database, which every worker shares; a run's own result stays on its worker's machine.

A batch whose worker dies: Prefect marks the run ``Crashed`` when only the run's process died
(the worker reports it); when the worker died with it, the run stays ``Running`` for ever, as
nobody is left to report. Prefect's flow retries cover neither (they retry ``Failed`` runs, in the
same process). So the collect does it: a run ``Crashed``, or ``Pending``/``Running`` for longer
than HOERING_BATCH_RUN_TIMEOUT, is marked ``Crashed`` and its batch handed to a new run, which any
worker that is alive picks up; messages the dead run had committed are ``processed`` already
and are skipped. Should the first run still be alive after all, the unique key on a response's
raw message lets only one of the two count a message. A batch that *fails* (its worker cannot
read the raw store, say) is not handed on: the collect fails with the reason after the other
batches are done, its messages stay ``stored``, and the next collect takes them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from flows.core.errors import HoeringError
from flows.core.tags import round_tag
from flows.runtime import get_app
from flows.schedules import DEPLOYMENTS

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

log = logging.getLogger(__name__)
HAND_ON = 2
"""How many times a batch whose run died is handed to a new run before the collect gives up."""
POLL_SECONDS = 2.0


class WorkPoolError(HoeringError):
    """The pool is not set up as HOERING_WORK_POOL says, or batches failed on it."""


@dataclass
class _Batch:
    raw_ids: list[int]
    handed_on: int = 0


def check_pool(client: Any, pool: str) -> None:
    """The process-batch deployment exists and its runs go to the configured pool."""
    from prefect.exceptions import ObjectNotFound

    name = DEPLOYMENTS["process-batch"]
    try:
        deployment = client.read_deployment_by_name(name)
    except ObjectNotFound:
        raise WorkPoolError(
            f"HOERING_WORK_POOL={pool}, men deploymentet {name} findes ikke på Prefect-serveren "
            "(prefect deploy --all --prefect-file deployments/prefect.yaml)"
        ) from None
    if deployment.work_pool_name != pool:
        raise WorkPoolError(
            f"HOERING_WORK_POOL={pool}, men deploymentet {name} kører i "
            f"{deployment.work_pool_name or 'serve.py (ingen work pool)'}"
        )


def _workers_online(client: Any, pool: str) -> bool:
    """Whether any worker of the pool has been heard from lately (Prefect marks it ONLINE)."""
    from prefect.client.schemas.objects import WorkerStatus

    return any(w.status == WorkerStatus.ONLINE for w in client.read_workers_for_work_pool(pool))


def run_on_pool(
    round_id: str, chunks: list[list[int]], now: str | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Every batch run on the pool: a result per finished batch (as the in-process batch task
    gives), and a reason per batch that failed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.deployments import run_deployment
    from prefect.states import Cancelled, Crashed

    settings = get_app(now).settings
    assert settings.work_pool is not None
    pending = deque(_Batch(ids) for ids in chunks)
    active: dict[UUID, _Batch] = {}
    done: list[list[int]] = []
    failed: list[str] = []
    with get_client(sync_client=True) as client:
        check_pool(client, settings.work_pool)
        while pending or active:
            while pending and len(active) < settings.work_pool_runs:
                batch = pending.popleft()
                run = run_deployment(
                    DEPLOYMENTS["process-batch"],
                    parameters={"round_id": round_id, "raw_ids": batch.raw_ids, "now": now},
                    timeout=0,  # started, not awaited here: the loop below polls them all
                    as_subflow=True,
                    tags=[round_tag(round_id)],
                )
                active[cast("FlowRun", run).id] = batch  # sync call: a FlowRun, not a coroutine
            time.sleep(POLL_SECONDS)
            for run_id, batch in list(active.items()):
                flow_run = client.read_flow_run(run_id)
                state = flow_run.state
                if state is None or state.type in (StateType.SCHEDULED,):
                    # No worker has taken it yet; with none online for the whole run timeout, no
                    # worker will (a pool whose workers were never started or all died).
                    waited = state is not None and (datetime.now(UTC) - state.timestamp).total_seconds()
                    if (
                        waited
                        and waited > settings.batch_run_timeout
                        and not _workers_online(client, settings.work_pool)
                    ):
                        active.pop(run_id)
                        client.set_flow_run_state(
                            run_id, Cancelled(message="Ingen worker i puljen"), force=True
                        )
                        failed.append(
                            f"{flow_run.name}: ingen worker henter fra puljen {settings.work_pool} "
                            "(start en: prefect worker start --pool " + settings.work_pool + ")"
                        )
                    continue
                if state.type == StateType.COMPLETED:
                    done.append(active.pop(run_id).raw_ids)
                    continue
                age = (datetime.now(UTC) - state.timestamp).total_seconds()
                stuck = (
                    state.type in (StateType.PENDING, StateType.RUNNING) and age > settings.batch_run_timeout
                )
                if state.type == StateType.CRASHED or stuck:
                    active.pop(run_id)
                    if stuck:
                        client.set_flow_run_state(
                            run_id,
                            Crashed(
                                message="Ingen livstegn inden for HOERING_BATCH_RUN_TIMEOUT; givet videre"
                            ),
                            force=True,
                        )
                    log.warning("batch run %s died (%s); handing its batch on", run_id, state.type.value)
                    if batch.handed_on < HAND_ON:
                        pending.append(_Batch(batch.raw_ids, batch.handed_on + 1))
                    else:
                        failed.append(f"{flow_run.name}: døde {HAND_ON + 1} gange")
                elif state.is_final():  # FAILED, CANCELLED: the reason is the run's
                    active.pop(run_id)
                    failed.append(f"{flow_run.name}: {state.message or state.type.value}")
    return [_outcome(ids, now) for ids in done], failed


def _outcome(raw_ids: list[int], now: str | None) -> dict[str, Any]:
    app = get_app(now)
    with app.uow() as uow:
        outcome = uow.batches.outcome(raw_ids)
    return {
        "processed": outcome.processed,
        "responses": outcome.responses,
        "set_aside": outcome.set_aside,
        "quarantined": outcome.quarantined,
        "by_kind": outcome.by_kind,
        "problems": outcome.problems,
    }
