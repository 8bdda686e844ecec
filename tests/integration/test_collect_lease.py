"""One collector at a time: the collect lease, on SQLite and PostgreSQL, and what a loser says."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.adapters.db.lease import Lease, holder_id
from flows.adapters.db.tables import CollectLeaseRow, RawMessageRow, ResponseRow
from flows.bootstrap import App, bootstrap
from flows.core.errors import CollectRunningError
from flows.services.collecting import collector_lease
from flows.settings import Settings
from tests.support.cli_round import CliRound, personal_data

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_a_lease_has_one_holder_until_it_runs_out(any_db_app: App) -> None:
    """The second contender is told who holds it; after the expiry it wins, and the first lost it."""
    clock = Clock()
    first = Lease(any_db_app.db, "collect", 60, round_id="r1", clock=clock)
    second = Lease(any_db_app.db, "collect", 60, round_id="r2", clock=clock)

    assert first.try_take() is None
    held = second.try_take()
    assert held is not None and held.holder == first.holder and held.round_id == "r1"
    clock.now += timedelta(seconds=59)
    assert first.renew()
    clock.now += timedelta(seconds=59)
    assert second.try_take() is not None  # renewed: not expired yet
    clock.now += timedelta(seconds=2)
    assert second.try_take() is None
    assert not first.renew()
    first.release()  # releasing a lease that is no longer ours leaves the winner's in place
    with any_db_app.db.transaction() as session:
        row = session.get(CollectLeaseRow, "collect")
        assert row is not None and row.holder == second.holder
    second.release()
    with any_db_app.db.transaction() as session:
        assert session.get(CollectLeaseRow, "collect") is None


def test_contenders_in_threads_never_both_win(any_db_app: App) -> None:
    """Eight threads race for a free lease at once: exactly one takes it."""
    leases = [Lease(any_db_app.db, "collect", 60) for _ in range(8)]
    start = threading.Barrier(len(leases))
    won: list[Lease] = []

    def contend(lease: Lease) -> None:
        start.wait()
        if lease.try_take() is None:
            won.append(lease)

    threads = [threading.Thread(target=contend, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_a_dead_holders_lease_on_this_machine_is_taken_over_at_once(any_db_app: App) -> None:
    """A collect killed here leaves a lease whose pid no longer runs: the next one need not wait."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    mine = holder_id().split("/")
    dead_holder = "/".join([mine[0], mine[1], dead.stdout.strip(), "feedbeef"])
    with any_db_app.db.transaction() as session:
        session.add(
            CollectLeaseRow(
                name="collect",
                holder=dead_holder,
                round_id="r1",
                acquired_at=datetime.now(UTC),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
    live = Lease(any_db_app.db, "collect", 60)
    assert live.try_take() is None
    foreign = "/".join(["another-host", mine[1], dead.stdout.strip(), "feedbeef"])
    with any_db_app.db.transaction() as session:
        row = session.get(CollectLeaseRow, "collect")
        assert row is not None
        row.holder, row.expires_at = foreign, datetime.now(UTC) + timedelta(hours=1)
    assert Lease(any_db_app.db, "collect", 60).try_take() is not None  # another host's: wait


def test_a_busy_collector_waits_then_says_so_in_one_danish_line(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", collect_wait_seconds=0.6, collect_lease_seconds=30)
    app = bootstrap(settings)
    try:
        with (
            collector_lease(app, "r1"),
            pytest.raises(CollectRunningError) as caught,
            collector_lease(app, "r2"),
        ):
            pytest.fail("a second collector got the lease")
        assert "en anden indsamling kører allerede for høringen r1" in str(caught.value)
        with collector_lease(app, "r2"):  # released at the end of the first
            pass
    finally:
        app.db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_collect_while_another_holds_the_lease_exits_75_quietly(tmp_path: Path, backend: str) -> None:
    """The loser waits, prints one line, touches no message, and its stderr holds no personal data."""
    with CliRound(tmp_path, backend, messages=70) as rnd:
        rnd.hoering("open", str(rnd.corpus.round_file))
        app = rnd.app()
        with collector_lease(app, "anden-runde"):
            loser = rnd.hoering("collect", rnd.round_id, check=False)
        assert loser.returncode == 75, loser.stderr
        lines = loser.stderr.strip().splitlines()
        assert len(lines) == 1 and "en anden indsamling kører allerede" in lines[0]
        with app.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(RawMessageRow)) == 0
        winner = rnd.hoering("collect", rnd.round_id)
        assert winner.returncode == 0
        with app.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(RawMessageRow)) == rnd.distinct


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_concurrent_collects_store_once_count_no_attempt_and_log_nothing_personal(
    tmp_path: Path, backend: str
) -> None:
    """Two collects started together: each message once, no attempt or error on any, and
    neither run's stderr names a sender or quotes a body (the old loser printed whole INSERTs)."""
    with CliRound(tmp_path, backend, messages=300, env={"HOERING_COLLECT_WAIT_SECONDS": "1"}) as rnd:
        rnd.hoering("open", str(rnd.corpus.round_file))
        runs = [rnd.start("collect", rnd.round_id) for _ in range(2)]
        outcomes = [run.communicate(timeout=600) for run in runs]
        codes = sorted(run.returncode for run in runs)
        assert codes in ([0, 0], [0, 75]), outcomes
        app = rnd.app()
        secrets = personal_data(rnd.corpus.truth, app)
        assert len(secrets) > 300
        for _out, err in outcomes:
            assert len(err.strip().splitlines()) <= 1, err[:2000]
            leaked = [s for s in secrets if s in err]
            assert not leaked, leaked[:5]
        with app.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(RawMessageRow)) == rnd.distinct
            assert session.scalar(select(func.count()).select_from(ResponseRow)) == rnd.distinct
            troubled = session.scalar(
                select(func.count())
                .select_from(RawMessageRow)
                .where((RawMessageRow.attempts > 0) | RawMessageRow.error.is_not(None))
            )
            assert troubled == 0


def test_a_long_collect_keeps_its_lease_by_renewing_it(any_db_app: App) -> None:
    """The heartbeat renews a 4-second lease every second: 8 seconds on, no one else can take it."""
    holder = Lease(any_db_app.db, "collect", 4)
    assert holder.try_take() is None
    holder.keep_alive()
    try:
        time.sleep(8)
        assert Lease(any_db_app.db, "collect", 4).try_take() is not None
        assert not holder.lost
    finally:
        holder.release()
    assert Lease(any_db_app.db, "collect", 4).try_take() is None
