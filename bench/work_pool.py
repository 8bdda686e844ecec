"""By hand: a collect of 20,000 messages on a process work pool, with one worker, then two.

    . /tmp/<state>/env        # HOERING_TEST_PG_URL of a running PostgreSQL (tests/services/postgres.sh)
    python -m bench.work_pool [--messages 20000] [--batch 500]

For each of 1 and 2 workers: a fresh PostgreSQL database, a prefect server of its own, a process
pool with the process-batch deployment, the workers (one run at a time each), a round of N
parties with one reply each; then `hoering collect` with HOERING_WORK_POOL set is timed from
start to exit. Prints messages per second for each, the speed-up, and checks completeness (every
reply stored, counted, numbered and receipted once). Not in the test command: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.support.databases import fresh_database
from tests.support.work_pool import Installation, exact


def one(workers: int, messages: int, batch: int) -> dict[str, object]:
    base_url = os.environ.get("HOERING_TEST_PG_URL")
    if not base_url:
        raise SystemExit("bench_work_pool: HOERING_TEST_PG_URL is unset (start tests/services/postgres.sh)")
    with tempfile.TemporaryDirectory(prefix="hoering-bench-pool-") as tmp, fresh_database(base_url) as url:
        assert url is not None
        own = Installation(Path(tmp), url, batch=batch)
        try:
            own.start(workers=tuple(f"w{n + 1}" for n in range(workers)))
            round_id = f"bench-{workers}"
            own.open_round(round_id, messages)
            started = time.monotonic()
            collect = own.collect(round_id)
            _out, err = collect.communicate()
            seconds = time.monotonic() - started
            if collect.returncode != 0:
                raise SystemExit(f"bench_work_pool: the collect failed: {err.decode()[-2000:]}")
            counts = own.counts(round_id)
            details = own.batch_details(round_id)
        finally:
            own.stop()
    complete = counts == exact(messages)
    ran = [int(d["worker_pid"]) for d in details]
    # The batch phase: first batch run's start to last one's end (the collect around it also
    # fetches, and afterwards writes a receipt per reply, which is not batch work).
    phase = (
        max(datetime.fromisoformat(d["ended"]) for d in details)
        - min(datetime.fromisoformat(d["started"]) for d in details)
    ).total_seconds()
    in_runs = sum(
        (datetime.fromisoformat(d["ended"]) - datetime.fromisoformat(d["started"])).total_seconds()
        for d in details
    )
    return {
        "workers": workers,
        "messages": messages,
        "collect_seconds": round(seconds, 1),
        "batch_phase_seconds": round(phase, 1),
        "batch_msgs_per_s": round(messages / phase, 1),
        "seconds_inside_runs": round(in_runs, 1),
        "batches_per_worker": sorted(ran.count(pid) for pid in set(ran)),
        "complete": complete,
        "counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    results = [one(int(workers), args.messages, args.batch) for workers in args.workers.split(",")]
    rates = [float(r["batch_msgs_per_s"]) for r in results]  # type: ignore[arg-type]
    print(json.dumps({"runs": results, "speedup": round(rates[-1] / rates[0], 2)}, indent=2))


if __name__ == "__main__":
    main()
