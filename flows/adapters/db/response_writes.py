"""Ingest's write statements: Core ``insert``/``update`` built once and executed with many rows.

An ORM bulk insert (``session.execute(insert(ResponseRow), rows)``) goes through the ORM's
bulk-persistence layer for every slice: it maps each dict onto the mapper, sorts the rows by
the keys they carry, and builds the statement again. The statements here are Core statements on
the tables, made once per process and cached by SQLAlchemy's compiled cache; a slice is one
``executemany`` (``insertmanyvalues`` batches the rows into multi-row VALUES with RETURNING, in
the order given). The rows are the same dicts, so the columns, unique keys and defaults are
those of ``tables.py``: the unique ``(round_id, raw_message_id)`` and ``(round_id, number)``
keys still make a rerun fail rather than write a response twice.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from sqlalchemy import Insert, Table, Update, bindparam, insert, update
from sqlalchemy.orm import Session

from flows.adapters.db.tables import AttachmentRow, RawMessageRow, RemarkRow, ResponseRow
from flows.core.model import RawState

_RESPONSES = cast(Table, ResponseRow.__table__)
_ATTACHMENTS = cast(Table, AttachmentRow.__table__)
_REMARKS = cast(Table, RemarkRow.__table__)
_RAW = cast(Table, RawMessageRow.__table__)


@functools.cache
def _insert_responses() -> Insert:
    return insert(_RESPONSES).returning(_RESPONSES.c.id, sort_by_parameter_order=True)


@functools.cache
def _insert(table: Table) -> Insert:
    return insert(table)


@functools.cache
def _link_duplicates() -> Update:
    return (
        update(_RESPONSES)
        .where(_RESPONSES.c.id == bindparam("b_id"))
        .values(duplicate_of=bindparam("b_duplicate_of"))
    )


@functools.cache
def _mark_processed() -> Update:
    return (
        update(_RAW)
        .where(_RAW.c.id == bindparam("b_id"))
        .values(
            state=RawState.PROCESSED.value,
            round_id=bindparam("b_round_id"),
            message_id=bindparam("b_message_id"),
        )
    )


def insert_responses(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """The new responses' ids, in the order of ``rows``."""
    if not rows:
        return []
    result = session.connection().execute(_insert_responses(), rows)
    return [int(row_id) for row_id in result.scalars()]


def insert_attachments(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_insert(_ATTACHMENTS), rows)


def insert_remarks(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(_insert(_REMARKS), rows)


def link_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    """``{"id", "duplicate_of"}`` per response."""
    if rows:
        params = [{"b_id": row["id"], "b_duplicate_of": row["duplicate_of"]} for row in rows]
        session.connection().execute(_link_duplicates(), params)


def mark_processed(session: Session, rows: list[dict[str, Any]]) -> None:
    """``{"id", "round_id", "message_id"}`` per raw message: processed, and where it went."""
    if rows:
        params = [
            {"b_id": row["id"], "b_round_id": row["round_id"], "b_message_id": row["message_id"]}
            for row in rows
        ]
        session.connection().execute(_mark_processed(), params)
