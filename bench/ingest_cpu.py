"""``python -m bench.ingest_cpu``: CPU milliseconds per message of each ingest stage, and the rates.

Two runs on one generated corpus, each on a fresh data dir and database:

* **cpu**: every stage in this one process (no parse workers), each wrapped in a CPU clock, so
  the figures add up: fetch/store (read the Maildir, blobs, raw rows), read (the batch's stored
  rows and the round context), parse (bytes to ``ParsedMessage``, attachments to the file
  store), judge (classify, route, match, remarks) and write (every row of a slice);
* **rate**: the ingest as the bench's ``ingest`` stage runs it (parse workers, fetch overlapped
  with processing), wall seconds: ingest, fetch and process messages per second.

The machine is shared: compare figures only within one run or back to back (``uptime``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import stages as stages_mod
from bench.corpus import generate
from tests.support.databases import fresh_database

STAGES = ("fetch", "read", "parse", "judge", "write")


class _Clock:
    def __init__(self) -> None:
        self.cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    def wrap(self, stage: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                self.cpu[stage] += time.process_time() - started

        return timed


@contextmanager
def _patched(clock: _Clock) -> Iterator[None]:
    """Wrap each stage's entry point where ``ingesting`` calls it (restored after)."""
    from flows.adapters import parse_pool
    from flows.services import ingesting

    wrapped = [
        (parse_pool, "parse_stored", "parse"),
        (ingesting, "judge", "judge"),
        (ingesting, "write", "write"),
        (ingesting, "load_context", "read"),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _stage in wrapped]
    for module, name, stage in wrapped:
        setattr(module, name, clock.wrap(stage, getattr(module, name)))
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


def cpu_run(corpus: Any, url: str | None, work: Path) -> dict[str, Any]:
    from flows.services.collecting import chunks, fetch, pending_raw_ids
    from flows.services.ingesting import process_batch

    product = stages_mod.Product(corpus, work / "data-cpu", url)
    try:
        stages_mod.open_round(product)
        app = product.app(stages_mod.COLLECT_NOW)
        app.settings.parse_workers = 1  # every stage in this process, on its CPU clock
        clock = _Clock()
        started = time.process_time()
        report = fetch(app)
        clock.cpu["fetch"] = time.process_time() - started
        total_started = time.process_time()
        processed = 0
        with _patched(clock):
            for ids in chunks(pending_raw_ids(app), app.settings.ingest_batch):
                processed += process_batch(app, corpus.round_id, ids).processed
        total = time.process_time() - total_started
        # what no wrapper holds (the batch's row read, failure records): counted as read
        clock.cpu["read"] += total - sum(clock.cpu[s] for s in ("read", "parse", "judge", "write"))
        n = max(report.fetched, 1)
        per = {stage: round(1000 * clock.cpu[stage] / n, 3) for stage in STAGES}
        return {
            "messages": report.fetched,
            "processed": processed,
            "ms_per_message": per,
            "total_ms_per_message": round(sum(per.values()), 3),
        }
    finally:
        product.close()


def rate_run(corpus: Any, url: str | None, work: Path) -> dict[str, Any]:
    product = stages_mod.Product(corpus, work / "data-rate", url)
    try:
        stages_mod.open_round(product)
        result = stages_mod.IngestResult()
        started, cpu = time.perf_counter(), time.process_time()
        stages_mod.ingest(product, result, time.perf_counter)
        wall, own_cpu = time.perf_counter() - started, time.process_time() - cpu
        children = os.times()
        return {
            "messages": result.fetched,
            "processed": result.processed,
            "ingest_s": round(wall, 2),
            "ingest_per_s": round(result.fetched / wall, 1),
            "fetch_per_s": round(result.fetched / result.fetch_s, 1) if result.fetch_s else None,
            "process_per_s": round(result.processed / result.process_s, 1) if result.process_s else None,
            "main_process_cpu_s": round(own_cpu, 2),
            "children_cpu_s": round(children.children_user + children.children_system, 2),
        }
    finally:
        product.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_cpu", description=__doc__)
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--database", help="a PostgreSQL server URL; default SQLite")
    parser.add_argument("--only", choices=("cpu", "rate"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hoering-ingest-cpu-") as tmp:
        work = Path(tmp)
        corpus = generate(args.responses, work / "corpus")
        out: dict[str, Any] = {"responses": args.responses, "load": os.getloadavg()}
        for name, run in (("cpu", cpu_run), ("rate", rate_run)):
            if args.only in (None, name):
                with fresh_database(args.database) as url:
                    out[name] = run(corpus, url, work)
        out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
