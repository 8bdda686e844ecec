"""The whole round twice on the same corpus: as plain service calls, and through the Prefect flows.

Both chains start from a fresh data dir and database and do the same work: open, invite (to the
loopback SMTP sink), collect (fetch, process, receipts), close after the deadline (a final collect,
then mark closed), assemble (log, note, bundle). Prefect's share of the end-to-end time is
``(prefect − plain) / prefect``. "Deadline run start → note finished" is the close run plus the
assemble run under Prefect.

The flows read their settings from the environment (``flows.runtime.get_app``), so the Prefect
chain sets ``HOERING_*`` for its duration and restores them afterwards. Prefect runs ephemeral
(no ``PREFECT_API_URL``) unless ``HOERING_BENCH_PREFECT_API_URL`` names a server; the flow-run
heartbeat is off, so it does not add its own traffic to the measurement.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import CorpusInfo
from bench.smtp_sink import SmtpSink
from bench.stages import COLLECT_NOW, OPEN_NOW, Product
from tests.support.databases import fresh_database

STEPS = ("open", "invite", "collect", "close", "assemble")
_ENV = (
    "HOERING_DATA_DIR",
    "HOERING_DATABASE_URL",
    "HOERING_INBOX_URL",
    "HOERING_SMTP_URL",
    "HOERING_DROP_DIR",
    "HOERING_NOW",
    "HOERING_SEND_RATE_PER_MINUTE",
)


@dataclass
class Chain:
    name: str
    steps: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return sum(self.steps.values())

    @property
    def deadline_to_note_s(self) -> float:
        return self.steps.get("close", 0.0) + self.steps.get("assemble", 0.0)


def _timed(chain: Chain, step: str, call: Callable[[], Any]) -> None:
    started = time.perf_counter()
    chain.results[step] = call()
    chain.steps[step] = time.perf_counter() - started


def plain_chain(
    corpus: CorpusInfo, data_dir: Path, database_url: str | None, steps: tuple[str, ...]
) -> Chain:
    """The same steps as the flows, as direct service calls in one process."""
    from flows.core.model import OutboxPurpose
    from flows.services import closing
    from flows.services.assembling import assemble
    from flows.services.collecting import chunks, fetch, pending_raw_ids
    from flows.services.ingesting import process_batch
    from flows.services.inviting import invite
    from flows.services.opening import open_round
    from flows.services.outbox import deliver

    chain = Chain("plain")
    round_id = corpus.round_id
    with fresh_database(database_url) as url, SmtpSink() as sink:
        product = Product(corpus, data_dir, url)
        opening, closing_app = product.app(OPEN_NOW, sink.port), product.app(COLLECT_NOW, sink.port)

        def collect() -> int:
            fetch(closing_app)
            done = 0
            for ids in chunks(pending_raw_ids(closing_app), closing_app.settings.ingest_batch):
                done += process_batch(closing_app, round_id, ids).processed
            deliver(closing_app, round_id, purposes=(OutboxPurpose.RECEIPT, OutboxPurpose.TEMPLATE_REJECTED))
            return done

        def close() -> int:
            closing.ensure_deadline_passed(closing_app, round_id)
            done = collect()
            closing.mark_closed(closing_app, round_id)
            return done

        calls: dict[str, Callable[[], Any]] = {
            "open": lambda: open_round(opening, corpus.round_file).parties,
            "invite": lambda: invite(opening, round_id).delivery.sent,
            "collect": collect,
            "close": close,
            "assemble": lambda: assemble(closing_app, round_id, data_dir / "out").counted,
        }
        try:
            for step in steps:
                _timed(chain, step, calls[step])
        finally:
            product.close()
    return chain


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in _ENV}
    for key in _ENV:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def prefect_settings() -> Iterator[str]:
    """Heartbeat off; ephemeral unless HOERING_BENCH_PREFECT_API_URL is given. Yields the mode."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )

    server = os.environ.get("HOERING_BENCH_PREFECT_API_URL") or None
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_API_URL: server}):
        yield server or "ephemeral"


def prefect_chain(
    corpus: CorpusInfo, data_dir: Path, database_url: str | None, steps: tuple[str, ...]
) -> Chain:
    """The same steps through the flows, with ``now`` so the close run comes after the deadline."""
    from flows.assemble import assemble
    from flows.close_round import close_round
    from flows.collect import collect
    from flows.invite import invite
    from flows.open_round import open_round
    from flows.runtime import forget_apps

    chain = Chain("prefect")
    round_id = corpus.round_id
    with fresh_database(database_url) as url, SmtpSink() as sink:
        env = {
            "HOERING_DATA_DIR": str(data_dir),
            "HOERING_INBOX_URL": f"maildir://{corpus.maildir}",
            "HOERING_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "HOERING_DROP_DIR": str(data_dir / "drop"),
            "HOERING_SEND_RATE_PER_MINUTE": "0",
        }
        if url:
            env["HOERING_DATABASE_URL"] = url
        calls: dict[str, Callable[[], Any]] = {
            "open": lambda: open_round(str(corpus.round_file), now=OPEN_NOW),
            "invite": lambda: invite(round_id, now=OPEN_NOW),
            "collect": lambda: collect(round_id, now=COLLECT_NOW),
            "close": lambda: close_round(round_id, now=COLLECT_NOW),
            "assemble": lambda: assemble(round_id, str(data_dir / "out"), now=COLLECT_NOW),
        }
        with _environment(env), prefect_settings() as mode:
            chain.results["mode"] = mode
            try:
                for step in steps:
                    _timed(chain, step, calls[step])
            finally:
                forget_apps(data_dir)  # the flows cached an engine on this data dir's database
    return chain


def task_runs(chain: Chain, batches: int) -> int:
    """Task runs of the flows: 2 open, 2 invite, collect 3 + batches, close 4 + batches, 1 assemble."""
    runs = {"open": 2, "invite": 2, "collect": 3 + batches, "close": 4, "assemble": 1}
    return sum(runs[s] for s in chain.steps)


def compare(plain: Chain, prefect: Chain, batches: int) -> dict[str, Any]:
    share = (prefect.total_s - plain.total_s) / prefect.total_s if prefect.total_s > 0 else None
    tasks = task_runs(prefect, batches)
    return {
        "plain_s": plain.steps,
        "prefect_s": prefect.steps,
        "plain_total_s": plain.total_s,
        "prefect_total_s": prefect.total_s,
        "prefect_share": share,
        "overhead_ms_per_task_run": 1000 * (prefect.total_s - plain.total_s) / tasks if tasks else None,
        "flow_runs": len(prefect.steps),
        "task_runs": tasks,
        "deadline_to_note_s": prefect.deadline_to_note_s,
        "mode": prefect.results.get("mode"),
    }
