"""How many messages each fanned-out batch takes: large runs on a pool, never over 50 batches."""

from __future__ import annotations

from flows.collect import MAX_BATCH_TASKS, fan_out_batch
from flows.settings import Settings


def test_a_pool_gets_large_runs_and_processes_the_ingest_batch() -> None:
    local = Settings(ingest_batch=500, batch_processes=2)
    pool = Settings(ingest_batch=500, work_pool="hoering", work_pool_batch=5000)
    assert fan_out_batch(local, 20_000) == 500
    assert fan_out_batch(pool, 20_000) == 5000  # 4 runs, not 40 runs that each start for 8 s


def test_a_national_mailbox_gets_bigger_batches_not_more_of_them() -> None:
    pool = Settings(work_pool="hoering", work_pool_batch=5000)
    size = fan_out_batch(pool, 4_600_000)
    assert size == 92_000 and -(-4_600_000 // size) == MAX_BATCH_TASKS
