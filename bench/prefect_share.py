"""How a large collection's time divides between Prefect and the work (a script, not a test).

    python -m bench.prefect_share --messages 100000

Generates N replies in a Maildir, opens a small round, then collects it twice on fresh data dirs:
once with the services called in a plain loop (the work alone), once through the collect flow
(the work plus Prefect: flow and task runs, states, logs, artifacts). Prefect's share is the
difference over the flow's time. Inside the flow run, the time spent in our code is also summed
(the services are wrapped with a timer), so Prefect's part of that same run is its wall time minus
our code: the figure the target is judged on, free of run-to-run noise. The temporary server's start is excluded by a warm-up flow run,
and the flow heartbeat is off, as in the tests. The target is under 5%.

Both sides use the batch size the flow uses (at least HOERING_INGEST_BATCH, at most
MAX_BATCH_TASKS batches), and they alternate ``--repeat`` times; the medians are compared, so a
slow minute on a shared machine does not land on one side only. With ``PREFECT_API_URL`` set, the
flow reports to that server (a dedicated ``prefect server``, as operators run it) instead of
starting a temporary one in this process.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.support.round_files import party_email, round_file

ROUND_ID = "bench-round"
NOW = "2025-10-22T08:00:00+02:00"


def generate(maildir: Path, count: int, parties: int) -> None:
    new = maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    start = datetime(2025, 10, 17, 8, tzinfo=UTC)
    for i in range(count):
        received = start + timedelta(seconds=i)
        message = EmailMessage()
        message["Received"] = f"from mx.example.org by imap.kk.example; {format_datetime(received)}"
        message["From"] = party_email(i % parties, "example.org")
        message["To"] = "hoering@kk.example"
        message["Subject"] = f"SV: [Høring {ROUND_ID}] Strategi, svar {i}"
        message["Date"] = format_datetime(received)
        message["Message-ID"] = f"<bench-{i}@example.org>"
        message.set_content(f"Bemærkning nummer {i}: vi foreslår en ændring af afsnit {i % 7}.")
        (new / f"{int(received.timestamp())}.M{i}P1.mx:2,").write_bytes(message.as_bytes())


def fresh_data_dir(work: Path, name: str, corpus: Path, rfile: Path) -> None:
    data = work / name
    shutil.copytree(corpus, data / "inbox")
    os.environ["HOERING_DATA_DIR"] = str(data)
    from flows.bootstrap import bootstrap
    from flows.services.opening import open_round
    from flows.settings import Settings

    app = bootstrap(Settings())
    open_round(app, rfile, force=True)  # a replay: the round's deadline lies in the past
    app.db.dispose()


def batch_size(messages: int) -> int:
    from flows.collect import MAX_BATCH_TASKS
    from flows.settings import Settings

    return max(Settings().ingest_batch, -(-messages // MAX_BATCH_TASKS))


def plain(now: str) -> tuple[float, int]:
    from flows.runtime import get_app
    from flows.services import collecting, ingesting

    started = time.perf_counter()
    app = get_app(now)
    collecting.fetch(app)
    processed = 0
    ids = collecting.pending_raw_ids(app)
    for chunk in collecting.chunks(ids, batch_size(len(ids))):
        processed += ingesting.process_batch(app, ROUND_ID, chunk).processed
    return time.perf_counter() - started, processed


WORK_SECONDS: list[float] = []


def _timed(function: Any) -> Any:
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            WORK_SECONDS.append(time.perf_counter() - started)

    return run


def with_prefect(now: str) -> tuple[float, int, float]:
    """The collect flow's wall time, processed count, and the seconds its tasks spent in our code.

    The task bodies run one at a time (one thread on SQLite), so wall minus work is Prefect's
    part of this very run: no second run to compare against, no run-to-run noise.
    """
    import flows.collect as collect_module
    from flows.services import collecting, ingesting

    patches = [
        (collecting, "fetch"),
        (collecting, "pending_raw_ids"),
        (ingesting, "process_batch"),
        (collect_module, "deliver"),
    ]
    originals = [getattr(module, name) for module, name in patches]
    for module, name in patches:
        setattr(module, name, _timed(getattr(module, name)))
    WORK_SECONDS.clear()
    try:
        started = time.perf_counter()
        result = collect_module.collect(ROUND_ID, now=now)
        wall = time.perf_counter() - started
    finally:
        for (module, name), original in zip(patches, originals, strict=True):
            setattr(module, name, original)
    return wall, int(result["processed"]), sum(WORK_SECONDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--parties", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each; medians")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hoering-bench-"))
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(work / "prefect-home"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    try:
        corpus = work / "corpus"
        t0 = time.perf_counter()
        generate(corpus, args.messages, args.parties)
        rfile = round_file(
            work / "round", ROUND_ID, args.parties, domain="example.org", reply_to="hoering@kk.example"
        )
        print(f"generated {args.messages} messages in {time.perf_counter() - t0:.1f} s", flush=True)

        from prefect import flow
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        @flow(name="bench-warm-up")
        def warm_up() -> None:
            return None

        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            warm_up()  # starts the temporary server (if any); not part of either measurement
            plain_times: list[float] = []
            flow_times: list[float] = []
            inside: list[float] = []
            for run in range(args.repeat):
                fresh_data_dir(work, f"plain-{run}", corpus, rfile)
                plain_s, plain_n = plain(NOW)
                plain_times.append(plain_s)
                print(f"services in a plain loop: {plain_s:8.2f} s ({plain_n} processed)", flush=True)
                fresh_data_dir(work, f"flow-{run}", corpus, rfile)
                flow_s, flow_n, work_s = with_prefect(NOW)
                flow_times.append(flow_s)
                inside.append((flow_s - work_s) / flow_s)
                print(
                    f"the collect flow:         {flow_s:8.2f} s ({flow_n} processed); our code inside it "
                    f"{work_s:.2f} s, Prefect {flow_s - work_s:.2f} s = {100 * inside[-1]:.1f}%",
                    flush=True,
                )
                for name in (f"plain-{run}", f"flow-{run}"):
                    shutil.rmtree(work / name, ignore_errors=True)

        plain_s, flow_s = statistics.median(plain_times), statistics.median(flow_times)
        overhead = flow_s - plain_s
        share = 100.0 * overhead / flow_s if flow_s else 0.0
        batches = -(-args.messages // batch_size(args.messages))
        server = os.environ.get("PREFECT_API_URL") or "a temporary server in this process"
        print(f"server: {server}; medians of {args.repeat}")
        print(
            f"Prefect: {overhead:.2f} s of {flow_s:.2f} s = {share:.1f}% ({batches} batch tasks + 4 other tasks)"
        )
        within = 100.0 * statistics.median(inside)
        print(f"Prefect inside the flow run (wall minus our code, median): {within:.1f}%")
        print("target: under 5%:", "met" if within < 5 else "NOT met", "(measured inside the run)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
