"""A collect's batches run on two `prefect worker` processes of a process work pool.

A prefect server of this module's own (tests/services/prefect.sh on a free port), hoering on a
fresh PostgreSQL database of the test command's server, a process work pool with the
`process-batch` deployment, and two workers, each taking one run at a time; all started once for
the module (tests/support/work_pool.py). One collect of a small round in three batches: each
worker takes one (each batch records the worker process that started it); the first to finish its
batch takes the third, and is SIGKILLed there (its process group and the run it had started).
The collect hands that batch to the other worker; it and a rerun end, and the counts are exact:
every reply stored, counted, numbered and receipted exactly once, and both workers ran batches.

Needs the services of the test command (HOERING_TEST_PREFECT_API_URL and HOERING_TEST_PG_URL).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.conftest import postgres_url
from tests.support.work_pool import Installation, children, exact

REPLIES = 120
BATCH = 40  # three batches: one each, and the second of the first worker done, which is killed
ROUND = "pool-a"
ENDS_WITHIN = 600  # only catches a hang

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        not os.environ.get("HOERING_TEST_PREFECT_API_URL") or not postgres_url(),
        reason="HOERING_TEST_PREFECT_API_URL or HOERING_TEST_PG_URL is unset: run `make test`, "
        "which starts the services",
    ),
]


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    from tests.support.databases import fresh_database

    base = postgres_url()
    assert base is not None
    with fresh_database(base) as url:
        assert url is not None
        own = Installation(tmp_path_factory.mktemp("work-pool"), url, batch=BATCH)
        try:
            own.start()
            yield own
        finally:
            own.stop()


def crashed_batch_runs(api: str) -> list[str]:
    """Messages of the process-batch runs on this module's server that ended ``Crashed``."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.settings import PREFECT_API_URL, temporary_settings

    crashed = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])))
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=crashed)
    return [str(run.state.message) for run in runs if run.state]


def test_two_workers_share_a_collect_and_one_killed_mid_batch_loses_nothing(
    installation: Installation,
) -> None:
    own = installation
    pids = {name: worker.pid for name, worker in own.workers.items()}

    own.open_round(ROUND, REPLIES)
    collect = own.collect(ROUND, HOERING_BATCH_RUN_TIMEOUT="45")
    started = time.monotonic()
    seen: set[int] = set()  # batch runs a worker had started before it had finished one
    victim = None
    while victim is None:
        assert collect.poll() is None, (
            "the collect ended before a worker took a second batch: "
            + collect.communicate()[1].decode()[-3000:]
        )
        assert time.monotonic() - started < ENDS_WITHIN, "no worker took a second batch"
        finished = set(own.batch_workers(ROUND))
        for name, pid in pids.items():
            for run in children(pid):
                if pid in finished and run not in seen:
                    victim = name  # its second batch, the first finished: kill it there
                seen.add(run)
        time.sleep(0.1)
    own.kill_worker(victim)
    _out, err = collect.communicate(timeout=ENDS_WITHIN)
    print(f"killed {victim} mid-batch; collect exit {collect.returncode}; {err.decode()[-600:]}")
    if collect.returncode != 0:
        assert "hoering collect:" in err.decode(), err.decode()[-3000:]
    rerun = own.collect(ROUND)
    _out, err = rerun.communicate(timeout=ENDS_WITHIN)
    assert rerun.returncode == 0, err.decode()[-3000:]

    assert own.counts(ROUND) == exact(REPLIES)
    details = own.batch_details(ROUND)
    ran = [int(d["worker_pid"]) for d in details]
    print(f"batches per worker: { {n: ran.count(p) for n, p in pids.items()} }")
    assert set(ran) == set(pids.values())  # both workers ran batches, nobody else did
    assert sum(int(d["processed"]) for d in details) == REPLIES  # nothing processed twice
    # The killed worker's run was handed on by the collect, not left for the rerun to find.
    assert any("givet videre" in message for message in crashed_batch_runs(own.api))
