"""A collect's batches run on two `prefect worker` processes of a process work pool.

A prefect server of this test's own (tests/services/prefect.sh on a free port), hoering on the
PostgreSQL of the test command, a process work pool with the `process-batch` deployment, and two
workers, each taking one run at a time. First a collect of a small round: both workers ran
batches (each batch records the worker process that started it), and every reply is stored,
counted, numbered and receipted exactly once. Then a second round, with one worker SIGKILLed
(its process group and the run it had started) while it holds a batch: the collect hands that
batch to the other worker, and after a rerun the counts are exact again.

Needs the services of the test command (HOERING_TEST_PREFECT_API_URL and HOERING_TEST_PG_URL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "services" / "prefect.sh"
REPLIES = 120
BATCH = 60  # two batches per round: one for each worker
POOL = "hoering"
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def round_file(base: Path, round_id: str, replies: int = REPLIES) -> Path:
    parties = "".join(
        f'\n[[parties]]\nname = "Forening {n:05d}"\nemail = "svar{n:05d}@{round_id}.example"\n'
        for n in range(replies)
    )
    base.mkdir(parents=True, exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    path = base / f"{round_id}.toml"
    path.write_text(
        f"""id = "{round_id}"
title = "Strategi for samarbejde"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "{round_id}@kk.example"
documents = ["udkast.pdf"]
reminders = []
{parties}""",
        encoding="utf-8",
    )
    return path


def fill_inbox(maildir: Path, round_id: str, replies: int = REPLIES) -> None:
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    start = datetime(2025, 10, 20, 8, tzinfo=UTC)
    for n in range(replies):
        received = start + timedelta(seconds=10 * n)
        message = EmailMessage()
        message["Received"] = f"from mx.example.org by imap.kk.example; {format_datetime(received)}"
        message["From"] = f"svar{n:05d}@{round_id}.example"
        message["To"] = f"{round_id}@kk.example"
        message["Subject"] = f"SV: [Høring {round_id}] Strategi for samarbejde"
        message["Date"] = format_datetime(received)
        message["Message-ID"] = make_msgid(domain=f"forening{n:03d}.example")
        message.set_content(f"Forening {n:03d} bakker op, men ønsker afsnit {n % 7 + 1} skærpet.")
        name = f"{int(received.timestamp())}.M{n}P{abs(hash(round_id)) % 999}.mx:2,"
        (maildir / "new" / name).write_bytes(message.as_bytes())


class Installation:
    """The prefect server, the pool, the two workers and hoering's settings of this test."""

    def __init__(self, base: Path, database_url: str, batch: int = BATCH) -> None:
        self.base = base
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
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
            "HOERING_NOW": "2025-10-22T08:00:00+02:00",
        }
        for name in ("HOERING_SMTP_URL", "HOERING_INBOX_URL", "HOERING_DROP_DIR", "HOERING_WORK_POOL"):
            self.env.pop(name, None)
        self.server_env = {**os.environ, "HOERING_TEST_PREFECT_PORT": str(self.port), "PREFECT_API_URL": ""}
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.bin = Path(sys.executable).parent

    def start(self, workers: tuple[str, ...] = ("w1", "w2")) -> None:
        subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.base / "prefect")],
            env=self.server_env,
            check=True,
            timeout=300,
        )
        prefect = str(self.bin / "prefect")
        subprocess.run(
            [prefect, "work-pool", "create", POOL, "--type", "process"], env=self.env, check=True, timeout=120
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
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(self.base / "prefect")],
            env=self.server_env,
            check=False,
            timeout=120,
        )

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
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as db:
                rows = db.execute(
                    text(
                        "SELECT detail FROM events WHERE round_id = :r AND step = 'collect' AND kind = 'batch'"
                    ),
                    {"r": round_id},
                )
                return [dict(detail) for (detail,) in rows]
        finally:
            engine.dispose()

    def batch_workers(self, round_id: str) -> list[int]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as db:
                rows = db.execute(
                    text(
                        "SELECT detail FROM events WHERE round_id = :r AND step = 'collect' AND kind = 'batch'"
                    ),
                    {"r": round_id},
                )
                return [int(detail["worker_pid"]) for (detail,) in rows]
        finally:
            engine.dispose()


EXACT = {
    "responses": REPLIES,
    "numbers": REPLIES,
    "max_number": REPLIES,
    "parties_answered": REPLIES,
    "receipts": REPLIES,
    "left_stored": 0,
}


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    from tests.support.databases import fresh_database

    base = postgres_url()
    assert base is not None
    with fresh_database(base) as url:
        assert url is not None
        own = Installation(tmp_path, url)
        try:
            own.start()
            yield own
        finally:
            own.stop()


def open_round(own: Installation, round_id: str, replies: int = REPLIES) -> None:
    from flows.bootstrap import bootstrap
    from flows.services.opening import open_round as open_service
    from flows.settings import Settings

    app = bootstrap(
        Settings(
            data_dir=own.data_dir,
            database_url=own.database_url,
            now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"),
        )
    )
    open_service(app, round_file(own.base / "rounds", round_id, replies))
    app.db.dispose()
    fill_inbox(own.data_dir / "inbox", round_id, replies)


def test_two_workers_share_a_collect_and_one_killed_mid_batch_loses_nothing(
    installation: Installation,
) -> None:
    own = installation
    pids = {name: worker.pid for name, worker in own.workers.items()}

    open_round(own, "pool-a")
    first = own.collect("pool-a")
    _out, err = first.communicate(timeout=ENDS_WITHIN)
    assert first.returncode == 0, err.decode()[-3000:]
    assert own.counts("pool-a") == EXACT
    ran = own.batch_workers("pool-a")
    print(f"batches per worker: { {n: ran.count(p) for n, p in pids.items()} }")
    assert len(ran) == REPLIES // BATCH
    assert set(ran) == set(pids.values())  # both workers ran batches, nobody else did

    open_round(own, "pool-b")
    second = own.collect("pool-b", HOERING_BATCH_RUN_TIMEOUT="45")
    started = time.monotonic()
    while not children(pids["w1"]):  # w1 has started a batch run: kill it there
        assert second.poll() is None, second.communicate()[1].decode()[-3000:]
        assert time.monotonic() - started < ENDS_WITHIN, "w1 never took a batch"
        time.sleep(0.05)
    own.kill_worker("w1")
    _out, err = second.communicate(timeout=ENDS_WITHIN)
    print(f"collect with w1 killed: exit {second.returncode}; {own.counts('pool-b')}; {err.decode()[-600:]}")
    if second.returncode != 0:
        assert "hoering collect:" in err.decode(), err.decode()[-3000:]
    rerun = own.collect("pool-b")
    _out, err = rerun.communicate(timeout=ENDS_WITHIN)
    assert rerun.returncode == 0, err.decode()[-3000:]
    assert own.counts("pool-b") == EXACT
    assert pids["w2"] in own.batch_workers("pool-b")
