"""The Prefect server is SIGKILLed in the middle of a collect, then started again.

The module has a prefect server of its own (tests/support/prefect_server.py: a free port, its own
state dir), so killing it hurts no other test; both tests use it, each with a round of its own.
`hoering collect` runs on a round of a few hundred replies with PREFECT_API_URL pointing at that
server; the server is killed once the first batch is committed, and started again on the same
port and database. The collect must end (finished, or failed with a one-line reason), never
hang; a second collect then brings the round to exactly the counts a single undisturbed collect
gives: every reply stored once, counted once, numbered 1..N, one receipt each.

Needs the services of the test command (HOERING_TEST_PREFECT_API_URL says they run).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.prefect_server import PrefectServer
from tests.support.round_files import fill_inbox, round_file

REPLIES = 300
ROUND_ID = "e2e-server-gone"
# Generous: the flow's own backstop is hours; Prefect's client gives up on a dead server after
# its retries (PREFECT_CLIENT_MAX_RETRIES, a minute or so). This only catches a hang.
ENDS_WITHIN = 900

pytestmark = [
    pytest.mark.prefect_server,
    pytest.mark.timeout(3 * ENDS_WITHIN + 600),  # two servers starts, two collects; a hang is caught inside
    pytest.mark.skipif(
        not os.environ.get("HOERING_TEST_PREFECT_API_URL"),
        reason="HOERING_TEST_PREFECT_API_URL is unset: run `make test`, which starts the services",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One server for the module: each test kills it and starts it again, so it is up at the end."""
    own = PrefectServer(tmp_path_factory.mktemp("prefect-server") / "prefect")
    own.start()
    try:
        yield own
    finally:
        own.stop()


def counts(database: Path, round_id: str) -> dict[str, Any]:
    with sqlite3.connect(database, timeout=30) as db:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "raw": one("SELECT count(*) FROM raw_messages"),
            "raw_processed": one("SELECT count(*) FROM raw_messages WHERE state = 'processed'"),
            "responses": one(
                f"SELECT count(*) FROM responses WHERE round_id = '{round_id}' AND kind = 'response'"
            ),
            "numbers": one(f"SELECT count(DISTINCT number) FROM responses WHERE round_id = '{round_id}'"),
            "max_number": one(f"SELECT max(number) FROM responses WHERE round_id = '{round_id}'"),
            "parties_answered": one(
                f"SELECT count(DISTINCT party_id) FROM responses WHERE round_id = '{round_id}' AND kind = 'response'"
            ),
            "receipts": one(
                f"SELECT count(*) FROM outbox WHERE round_id = '{round_id}' AND purpose = 'receipt'"
            ),
            "receipts_sent": one(
                f"SELECT count(*) FROM outbox WHERE round_id = '{round_id}' AND purpose = 'receipt' AND state = 'sent'"
            ),
        }


def first_batch_committed(database: Path, round_id: str) -> bool:
    if not database.exists():
        return False
    try:
        return bool(counts(database, round_id)["responses"])
    except sqlite3.OperationalError:  # tables not there yet, or the writer holds the lock
        return False


@pytest.mark.parametrize("back", ["at-once", "after-the-collect-gave-up"])
def test_a_collect_survives_the_server_being_killed_and_the_next_one_completes_it(
    tmp_path: Path, server: PrefectServer, back: str
) -> None:
    round_id = f"{ROUND_ID}-{back}"  # the server is the module's: each test's runs by their own name
    server.start()  # only a health check when it is up; up again should a test before have failed
    from flows.bootstrap import bootstrap
    from flows.services.opening import open_round
    from flows.settings import Settings

    data_dir = tmp_path / "var"
    settings = Settings(data_dir=data_dir, now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"))
    app = bootstrap(settings)
    open_round(app, round_file(tmp_path / "round", round_id, REPLIES))
    app.db.dispose()
    fill_inbox(data_dir / "inbox", round_id, REPLIES)
    database = data_dir / "hoering.sqlite3"

    env = {
        **os.environ,
        "PREFECT_API_URL": server.url,
        "PREFECT_HOME": str(tmp_path / "client-home"),
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        "HOERING_DATA_DIR": str(data_dir),
        "HOERING_INGEST_BATCH": "25",  # twelve batches: the kill lands between two of them
        "HOERING_PARSE_WORKERS": "0",
        "HOERING_NOW": "2025-10-22T08:00:00+02:00",
    }
    for name in ("HOERING_DATABASE_URL", "HOERING_SMTP_URL", "HOERING_INBOX_URL", "HOERING_DROP_DIR"):
        env.pop(name, None)
    hoering = str(Path(sys.executable).parent / "hoering")

    started = time.monotonic()
    first = subprocess.Popen(
        [hoering, "collect", round_id], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while not first_batch_committed(database, round_id):
        assert first.poll() is None, first.communicate()[1].decode()[-3000:]
        assert time.monotonic() - started < ENDS_WITHIN, "the collect never committed a batch"
        time.sleep(0.2)
    killed_at = counts(database, round_id)
    server.kill()
    if back == "at-once":
        server.start()  # same port, same database
        out, err = first.communicate(timeout=ENDS_WITHIN)  # a hang fails here
    else:
        out, err = first.communicate(timeout=ENDS_WITHIN)  # a hang fails here
        server.start()
    ended = {"returncode": first.returncode, "stdout": out.decode(), "stderr": err.decode()}
    print(f"killed at {killed_at}; first collect ended: {ended}; after {time.monotonic() - started:.0f} s")
    if first.returncode != 0:
        # Failed with a clear state: one line saying the command and why, no traceback.
        last = [line for line in ended["stderr"].splitlines() if line.startswith("hoering collect:")]
        assert last, ended["stderr"][-3000:]
        assert "Prefect-serveren svarer ikke" in last[-1], last
        assert "Traceback" not in ended["stderr"]
    half = counts(database, round_id)
    print(f"after the first collect: {half}")
    assert half["responses"] <= REPLIES
    assert half["numbers"] == half["responses"]  # whatever got in, got in once

    second = subprocess.run(
        [hoering, "collect", round_id], env=env, capture_output=True, timeout=ENDS_WITHIN, check=False
    )
    assert second.returncode == 0, second.stderr.decode()[-3000:]
    assert counts(database, round_id) == {
        "raw": REPLIES,
        "raw_processed": REPLIES,
        "responses": REPLIES,
        "numbers": REPLIES,
        "max_number": REPLIES,
        "parties_answered": REPLIES,
        "receipts": REPLIES,
        "receipts_sent": REPLIES,
    }
    assert len(list((data_dir / "outbox").rglob("*.eml"))) == REPLIES  # one receipt file each

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: server.url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"collect · {round_id}"]))
        )
    states = sorted(str(r.state_type.value) for r in runs if r.state_type)
    print(f"flow runs on the server afterwards: {states}")
    assert len(states) == 2
    assert "COMPLETED" in states  # the second run, at least, is on the server and finished
    if first.returncode == 0:
        assert states == ["COMPLETED", "COMPLETED"]
