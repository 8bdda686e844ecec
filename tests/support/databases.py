"""Throw-away databases for tests and the benchmark: one new PostgreSQL database per use."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_database(base_url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database beside ``base_url`` (dropped afterwards), or None for SQLite.

    None means the product's default: a SQLite file in the (fresh) data dir.
    """
    if not base_url or not base_url.startswith("postgresql"):
        yield None
        return
    import sqlalchemy as sa

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        if os.environ.get("HOERING_BENCH_KEEP_DATABASE"):  # to measure the outputs again on it
            print(f"kept database {name}", file=sys.stderr)
        else:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
