"""A lease in the database: one holder at a time, renewed while held, expiring on its own.

Taken with one atomic statement either way: an INSERT that does nothing when the row exists,
then an UPDATE whose WHERE only matches an expired lease (or one whose holder is known dead).
SQLite serialises both (BEGIN IMMEDIATE); PostgreSQL re-checks the WHERE on the locked row, so
two contenders can never both see "expired" and both win.

Times are the real wall clock, never the replay clock (``--now``): a lease is about processes
running now. Machines sharing one PostgreSQL need synchronised clocks (NTP), as for any lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import CursorResult, Table, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from flows.adapters.db.session import Database
from flows.adapters.db.tables import CollectLeaseRow

log = logging.getLogger(__name__)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _pid_namespace() -> str:
    # Same host name and pid mean the same process only inside one pid namespace (containers).
    try:
        return Path("/proc/self/ns/pid").readlink().name
    except OSError:
        return "-"


def holder_id() -> str:
    """Who holds a lease: host, pid namespace, pid, and a token unique to this take."""
    return f"{socket.gethostname()[:80]}/{_pid_namespace()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


def _dead_here(holder: str) -> bool:
    """True when ``holder`` was a process on this host and pid namespace that no longer runs."""
    parts = holder.split("/")
    if len(parts) != 4 or parts[0] != socket.gethostname()[:80] or parts[1] != _pid_namespace():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


@dataclass(frozen=True)
class LeaseHeld:
    """The lease someone else holds, for the one line that says so."""

    holder: str
    round_id: str | None
    acquired_at: datetime
    expires_at: datetime


class Lease:
    """One named lease for one holder. ``try_take`` / ``renew`` / ``release``; thread-safe."""

    def __init__(
        self,
        db: Database,
        name: str,
        seconds: float,
        *,
        round_id: str | None = None,
        clock: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.db, self.name, self.seconds, self.round_id = db, name, seconds, round_id
        self.holder = holder_id()
        self.clock = clock
        self.lost = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def try_take(self) -> LeaseHeld | None:
        """Take the lease if it is free, expired or its holder died here; else who holds it."""
        now = self.clock()
        values = {
            "name": self.name,
            "holder": self.holder,
            "round_id": self.round_id,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=self.seconds),
        }
        table = cast(Table, CollectLeaseRow.__table__)
        with self.db.transaction() as session:
            insert = pg_insert if self.db.dialect == "postgresql" else sqlite_insert
            created = session.execute(insert(table).values(values).on_conflict_do_nothing())
            if cast(CursorResult[object], created).rowcount == 1:
                return None
            current = session.execute(
                select(CollectLeaseRow.holder, CollectLeaseRow.expires_at).where(
                    CollectLeaseRow.name == self.name
                )
            ).one()
            free = [table.c.expires_at <= now, table.c.holder == self.holder]
            if _dead_here(current.holder):
                free.append(table.c.holder == current.holder)
            taken = session.execute(update(table).where(table.c.name == self.name, or_(*free)).values(values))
            if cast(CursorResult[object], taken).rowcount == 1:
                if current.expires_at > now and current.holder != self.holder:
                    log.info("took over the %s lease of a process that died on this host", self.name)
                return None
            row = session.get(CollectLeaseRow, self.name)
            assert row is not None  # it existed a statement ago and only a holder deletes it
            return LeaseHeld(row.holder, row.round_id, row.acquired_at, row.expires_at)

    def renew(self) -> bool:
        """Push the expiry on; False when the lease is no longer ours (it ran out and was taken)."""
        now = self.clock()
        with self.db.transaction() as session:
            result = session.execute(
                update(CollectLeaseRow)
                .where(CollectLeaseRow.name == self.name, CollectLeaseRow.holder == self.holder)
                .values(expires_at=now + timedelta(seconds=self.seconds))
                .execution_options(synchronize_session=False)
            )
            return cast(CursorResult[object], result).rowcount == 1

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        with self.db.transaction() as session:
            session.execute(
                delete(CollectLeaseRow)
                .where(CollectLeaseRow.name == self.name, CollectLeaseRow.holder == self.holder)
                .execution_options(synchronize_session=False)
            )

    def keep_alive(self) -> None:
        """Renew from a daemon thread every quarter of the lease time until ``release``."""
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease-{self.name}", daemon=True)
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                if not self.renew():
                    self.lost = True
                    log.warning("the %s lease ran out and was taken by another run", self.name)
                    return
            except Exception as exc:  # a database hiccup: try again at the next beat
                log.warning("could not renew the %s lease: %s", self.name, type(exc).__name__)
