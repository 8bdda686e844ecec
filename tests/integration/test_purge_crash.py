"""A purge SIGKILLed halfway finishes on its rerun (SQLite and PostgreSQL).

The purge runs in a child process that kills itself with SIGKILL at a chosen point: after the
intent is recorded and before any file goes, after some files are gone, and after the columns
are nulled but before that transaction commits. Each kill is followed by the next run; the last
run finishes. The result must be the clean purge's: every file and text of the round gone, its
counts kept, one ``purged`` event with the counts read before anything was deleted, and the
other round untouched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.adapters.db.tables import EventRow
from flows.bootstrap import App
from flows.services import exporting, purging
from tests.integration.test_public_record import counts_view, snapshot
from tests.support import record_round as rr

CHILD = """
import os, signal, sys
from datetime import datetime
from pathlib import Path

from flows.adapters.db import record_purge
from flows.bootstrap import bootstrap
from flows.services import purging
from flows.settings import Settings

point, data_dir, url, now = sys.argv[1:5]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point.startswith("file:"):
    nth, calls, real_remove = int(point[5:]), [0], purging.remove_path
    def remove(path):
        calls[0] += 1
        if calls[0] == nth:
            die()
        return real_remove(path)
    purging.remove_path = remove
elif point == "erase":
    real_erase = record_purge.erase_round
    def erase(session, round_id):
        real_erase(session, round_id)
        session.flush()  # the statements ran; the commit never comes
        die()
    record_purge.erase_round = erase

app = bootstrap(Settings(data_dir=Path(data_dir), database_url=url, now=datetime.fromisoformat(now)))
purging.purge(app)
"""


@pytest.fixture
def exported(tmp_path: Path, database_url: str) -> Iterator[tuple[App, str]]:
    app = rr.build(tmp_path, database_url)
    exporting.export(app, "runde-a")
    yield app, database_url
    app.db.dispose()


def run_child(app: App, url: str, point: str) -> int:
    args = [sys.executable, "-c", CHILD, point, str(app.settings.data_dir), url, rr.AFTER_RETENTION]
    env = {**os.environ, "HOERING_DATABASE_URL": url}
    return subprocess.run(args, env=env, capture_output=True, timeout=120).returncode


def events(app: App, kind: str) -> int:
    with app.db.transaction() as session:
        return int(session.scalar(select(func.count()).where(EventRow.kind == kind)) or 0)


def test_a_purge_killed_at_each_step_finishes_on_its_rerun(exported: tuple[App, str]) -> None:
    app, url = exported
    before_a, before_b = snapshot(app, "runde-a"), snapshot(app, "runde-b")
    kept = counts_view(app, "runde-a")

    assert run_child(app, url, "file:1") == -signal.SIGKILL  # intent recorded, no file gone
    assert events(app, "purge_started") == 1
    assert snapshot(app, "runde-a") == before_a

    assert run_child(app, url, "file:3") == -signal.SIGKILL  # two files gone
    halfway = snapshot(app, "runde-a")
    assert halfway["raw_files"] == before_a["raw_files"] - 2  # type: ignore[operator]
    assert halfway["texts"] == before_a["texts"]

    assert run_child(app, url, "erase") == -signal.SIGKILL  # every file gone, the nulling rolled back
    gone = snapshot(app, "runde-a")
    # the attachment's blob is runde-b's too: it stays on disk
    assert (gone["raw_files"], gone["attachment_files"], gone["texts"]) == (0, 1, before_a["texts"])
    assert events(app, "purged") == 0

    assert run_child(app, url, "none") == 0  # the rerun finishes

    after = snapshot(app, "runde-a")
    assert (after["texts"], after["remark_texts"], after["raw_files"], after["outbox_addresses"]) == (
        0,
        0,
        0,
        0,
    )
    assert after["responses"] == before_a["responses"] and after["raw_rows"] == before_a["raw_rows"]
    assert "Jens Hansen" not in after["party_names"]  # type: ignore[operator]
    assert counts_view(app, "runde-a") == kept
    assert snapshot(app, "runde-b") == before_b
    assert events(app, "purged") == 1
    with app.db.transaction() as session:
        detail = session.scalar(select(EventRow.detail).where(EventRow.kind == "purged"))
    assert detail is not None
    # the counts are the plan's, read before anything went: the same as a purge never killed
    assert (detail["raw_messages"], detail["attachments"], detail["sent_files"], detail["responses"]) == (
        4,
        1,
        3,
        4,
    )
    assert purging.purge(rr.at(app, rr.AFTER_RETENTION)).purged == {}  # nothing left to do
