"""The chain's last link for ``assemble``: each counted response's stored raw message.

Each response line gets its raw message's sha256 (the log's ``SHA-256`` column), and the
assembly the links the quality gate reports: a stored file that is gone, or whose bytes no
longer hash to what was recorded when it was received (``flows.core.quality.check_chain``).

The stored files are streamed in the receipt order the responses were read and numbered in,
and matched to them by the stable reference: a line's shown number (1, 2, 3 … in receipt
order) is not its stored number, which ingest handed out in batch order. Only broken links are
kept, so a national round's million intact links cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from flows.adapters.case_file import file_sha256
from flows.adapters.db.record import StoredFile
from flows.bootstrap import App
from flows.core.assembly import Assembly, StoredLink
from flows.core.model import Channel
from flows.core.quality import link_intact


def attach_chain(app: App, round_id: str, assembly: Assembly) -> None:
    """Give each counted response its raw message's sha256 and the gate its broken links."""
    broken: list[StoredLink] = []
    responses = assembly.responses  # in place: a second list of a million lines would set the peak
    with app.uow() as uow:
        files = _InReceiptOrder(uow.records.counted_files(round_id))
        for index, line in enumerate(responses):
            recorded, path = files.of(line.reference, line.received_at)
            found = file_sha256(Path(path)) if path else None
            link = StoredLink(line.number, recorded, found, typed_in=line.channel is Channel.MANUAL)
            if not link_intact(link):
                broken.append(link)
            responses[index] = replace(line, sha256=recorded or "")
    assembly.stored = tuple(broken)


class _InReceiptOrder:
    """The stored files, looked up by reference as the lines come in the same order.

    A row the lines do not ask for where expected (a response counted after the assembly was
    read) is kept aside; a line whose row has passed, or never comes, gets no file. So what is
    held is proportional to such differences, not to the round.
    """

    def __init__(self, rows: Iterable[StoredFile]) -> None:
        self._rows = iter(rows)
        self._aside: dict[str, StoredFile] = {}

    def of(self, reference: str, received_at: datetime) -> tuple[str | None, str | None]:
        row = self._aside.pop(reference, None)
        if row is None:
            for row in self._rows:
                if row.reference == reference:
                    break
                self._aside[row.reference] = row
                if row.received_at > received_at:  # receipt order: this line's row is not coming
                    return None, None
            else:
                return None, None
        return row.sha256, row.path
