"""A process work pool on a prefect server of its own, with `prefect worker` processes, for hoering.

The two-worker e2e test (tests/e2e/test_work_pool.py) and the by-hand benchmark (bench/work_pool.py)
both use it: a server on a free port (tests/support/prefect_server.py), the pool with the
``process-batch`` deployment, workers taking one run at a time, each in a process group of its own
(killed as one, and only ours), and hoering's settings pointing at a PostgreSQL database of the
caller's. Everything it writes is under the base directory it is given.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.support.prefect_server import ROOT, PrefectServer
from tests.support.round_files import fill_inbox, round_file

POOL = "hoering"
BATCH = 60


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the runs a worker started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class Installation:
    """The prefect server, the pool, the workers and hoering's settings of one test or bench run."""

    def __init__(self, base: Path, database_url: str, batch: int = BATCH) -> None:
        self.base = base
        self.server = PrefectServer(base / "prefect")
        self.api = self.server.url
        self.data_dir = base / "var"
        self.database_url = database_url
        self.env = {
            **os.environ,
            "PREFECT_API_URL": self.api,
            "PREFECT_HOME": str(base / "client-home"),
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "HOERING_DATA_DIR": str(self.data_dir),
            "HOERING_DATABASE_URL": database_url,
            "HOERING_PARSE_WORKERS": "0",
            "HOERING_INGEST_BATCH": str(batch),
            "HOERING_WORK_POOL_BATCH": str(batch),
            "HOERING_NOW": "2025-10-22T08:00:00+02:00",
        }
        for name in ("HOERING_SMTP_URL", "HOERING_INBOX_URL", "HOERING_DROP_DIR", "HOERING_WORK_POOL"):
            self.env.pop(name, None)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.bin = Path(sys.executable).parent

    def start(self, workers: tuple[str, ...] = ("w1", "w2")) -> None:
        self.server.start()
        prefect = str(self.bin / "prefect")
        subprocess.run(
            [prefect, "work-pool", "create", POOL, "--type", "process"],
            env=self.env,
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
        register = (
            "from prefect.types.entrypoint import EntrypointType\n"
            "from flows.process_batch import process_batch\n"
            f"process_batch.to_deployment(name='process-batch', work_pool_name='{POOL}',"
            " entrypoint_type=EntrypointType.MODULE_PATH).apply()\n"
        )
        subprocess.run([sys.executable, "-c", register], env=self.env, check=True, timeout=120, cwd=ROOT)
        for name in workers:
            self.start_worker(name)

    def start_worker(self, name: str) -> None:
        log = (self.base / f"worker-{name}.log").open("wb")
        self.workers[name] = subprocess.Popen(
            [str(self.bin / "prefect"), "worker", "start", "--pool", POOL, "--name", name, "--limit", "1"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed as one, and only ours
        )

    def kill_worker(self, name: str) -> None:
        worker = self.workers.pop(name)
        runs = children(worker.pid)
        os.killpg(worker.pid, signal.SIGKILL)
        for pid in runs:  # the run it started, should it have a session of its own
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=60)

    def stop(self) -> None:
        for name in list(self.workers):
            self.kill_worker(name)
        self.server.stop()

    def open_round(self, round_id: str, replies: int) -> None:
        """Open a round of ``replies`` parties and put one reply from each in the inbox."""
        from flows.bootstrap import bootstrap
        from flows.services.opening import open_round as open_service
        from flows.settings import Settings

        app = bootstrap(
            Settings(
                data_dir=self.data_dir,
                database_url=self.database_url,
                now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"),
            )
        )
        open_service(app, round_file(self.base / "rounds", round_id, replies))
        app.db.dispose()
        fill_inbox(self.data_dir / "inbox", round_id, replies)

    def collect(self, round_id: str, **extra: str) -> subprocess.Popen[bytes]:
        runs = str(max(2, len(self.workers)))
        env = {**self.env, "HOERING_WORK_POOL": POOL, "HOERING_WORK_POOL_RUNS": runs, **extra}
        return subprocess.Popen(
            [str(self.bin / "hoering"), "collect", round_id],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def counts(self, round_id: str) -> dict[str, Any]:
        """What the completeness check looks at: every reply stored, counted, numbered, receipted once."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as db:

                def one(sql: str) -> Any:
                    return db.execute(text(sql), {"r": round_id}).scalar_one()

                return {
                    "responses": one(
                        "SELECT count(*) FROM responses WHERE round_id = :r AND kind = 'response'"
                    ),
                    "numbers": one("SELECT count(DISTINCT number) FROM responses WHERE round_id = :r"),
                    "max_number": one("SELECT max(number) FROM responses WHERE round_id = :r"),
                    "parties_answered": one(
                        "SELECT count(DISTINCT party_id) FROM responses WHERE round_id = :r AND kind = 'response'"
                    ),
                    "receipts": one(
                        "SELECT count(*) FROM outbox WHERE round_id = :r AND purpose = 'receipt'"
                    ),
                    "left_stored": one("SELECT count(*) FROM raw_messages WHERE state <> 'processed'"),
                }
        finally:
            engine.dispose()

    def batch_details(self, round_id: str) -> list[dict[str, Any]]:
        """The ``batch`` events of the round's collects: one per batch run that finished its work."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as db:
                rows = db.execute(
                    text(
                        "SELECT detail FROM events WHERE round_id = :r AND step = 'collect' AND kind = 'batch'"
                        " ORDER BY id"
                    ),
                    {"r": round_id},
                )
                return [dict(detail) for (detail,) in rows]
        finally:
            engine.dispose()

    def batch_workers(self, round_id: str) -> list[int]:
        """The worker process that started each finished batch run."""
        return [int(detail["worker_pid"]) for detail in self.batch_details(round_id)]


def exact(replies: int) -> dict[str, int]:
    """The counts of a complete collect of ``replies`` replies, one per party."""
    return {
        "responses": replies,
        "numbers": replies,
        "max_number": replies,
        "parties_answered": replies,
        "receipts": replies,
        "left_stored": 0,
    }
