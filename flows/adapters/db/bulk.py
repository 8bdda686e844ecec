"""The one bulk insert that skips rows already there (outbox dedupe keys, raw messages).

One statement executed with many parameter sets: SQLAlchemy compiles it once and caches it,
where a multi-row VALUES would be compiled again for every batch size. ``RETURNING`` gives the
ids of the rows actually inserted, so the caller learns how many were new without a second query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def insert_new(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, unique: Sequence[str] | None = None
) -> list[int]:
    """Insert ``rows`` into ``table``, skipping any that clash with a unique key; the new ids.

    ``unique`` names the columns of the one unique index to test (PostgreSQL's ``ON CONFLICT
    (…)``); without it any unique constraint counts.
    """
    if not rows:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(unique) if unique is not None else None)
        .returning(table.c.id)
    )
    return [row_id for (row_id,) in session.connection().execute(statement, list(rows)).all()]
