"""Which Maildir files are stored already, so the Maildir source does not read them twice.

A question about raw messages: it belongs with ``ResponseRepository`` (``responses.py``) once that
one is filled; it stands alone here so the two repository helpers of issue 13 do not edit one file.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.adapters.db.tables import RawMessageRow


def stored_maildir_names(session: Session) -> set[str]:
    query = select(RawMessageRow.source_name).where(RawMessageRow.source == "maildir")
    return set(session.scalars(query))
