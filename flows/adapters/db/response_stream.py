"""Remarks streamed in the order the outputs show them: by their response's receipt, then position.

``assemble`` merges these into its counted responses (read in the same order) as they come,
instead of holding every remark and a map from every response to sort them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import RemarkRow, ResponseRow

STREAM_ROWS = 5_000


class ReceiptRemark(NamedTuple):
    """One remark with its response's receipt key (what the merge compares)."""

    response_id: int
    received_at: datetime  # the response's
    response_number: int  # the response's stored number
    number: str
    section: str
    text: str
    proposal: str


def counted_remarks(session: Session, round_id: str, counted: ColumnElement[bool]) -> Iterator[ReceiptRemark]:
    """The remarks of responses ``counted`` selects, in their responses' receipt order, streamed."""
    query = (
        select(
            RemarkRow.response_id,
            ResponseRow.received_at,
            ResponseRow.number,
            RemarkRow.number,
            RemarkRow.section,
            RemarkRow.text,
            RemarkRow.proposal,
        )
        .join(ResponseRow, ResponseRow.id == RemarkRow.response_id)
        .where(RemarkRow.round_id == round_id, ResponseRow.round_id == round_id, counted)
        .order_by(ResponseRow.received_at, ResponseRow.number, RemarkRow.position, RemarkRow.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    return (ReceiptRemark._make(row) for row in session.execute(query))
