"""Files staff drop in by hand (.eml, .msg, .xlsx, .docx, .pdf): collected like mail.

A file may carry its own time of receipt at the start of its name, Copenhagen time, e.g.
``2025-10-24 15.30 brev fra Ældrerådet.pdf``; otherwise it was received when collected.
After the batch is committed the file is moved to ``indlæst/`` so the folder shows what is new.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from flows.adapters.ports import Batch, Cursor, FetchedMessage
from flows.core.danish import COPENHAGEN

DONE = "indlæst"
MAX_FILE = 64 * 1024 * 1024
STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T_](\d{2})[.:-](\d{2})")


class DropSource:
    name = "drop"

    def __init__(self, path: Path, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.clock = clock

    def __enter__(self) -> Self:
        (self.path / DONE).mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        files = sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
        for start in range(0, len(files), size):
            batch = Batch([])
            for path in files[start : start + size]:
                fetched = self._read(path)
                if fetched is None:
                    batch.notes.append(f"{path.name}: for stor (over 64 MB), ikke indlæst")
                else:
                    batch.messages.append(fetched)
            yield batch

    def acknowledge(self, batch: Batch) -> None:
        for message in batch.messages:
            source = self.path / message.source_name
            if source.exists():
                target = self.path / DONE / message.source_name
                if target.exists():
                    target = target.with_name(f"{target.stem}-{int(self.clock().timestamp())}{target.suffix}")
                source.replace(target)

    def _read(self, path: Path) -> FetchedMessage | None:
        if path.stat().st_size > MAX_FILE:
            return None
        given = stamp_in_name(path.name)
        return FetchedMessage(
            data=path.read_bytes(),
            received_at=given or self.clock(),
            received_from="file-name" if given else "collected",
            source="drop",
            source_name=path.name,
        )


def stamp_in_name(name: str) -> datetime | None:
    match = STAMP.match(name)
    if not match:
        return None
    try:
        year, month, day, hour, minute = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN)
    except ValueError:
        return None
