"""Texts kept in a temporary file instead of memory, for the outputs of a large round.

The log, the note and the bundle show every counted text, in receipt order, more than once
(sheet, note, quality gate). At 1,000,000 responses those texts are gigabytes; held as
strings beside each other they set the process's peak. Written once to an unlinked file and
read back one at a time with ``os.pread`` (no mapping, so the page cache never counts as the
process's memory), a text costs a small handle in memory instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from flows.core.assembly import LazyText, resolve

KEEP_BELOW = 64  # characters: a handle costs about as much as a text this short
FLUSH_BYTES = 1 << 20


class SpilledText:
    """Where one text lies in its spill file."""

    __slots__ = ("_length", "_offset", "_spill")

    def __init__(self, spill: TextSpill, offset: int, length: int) -> None:
        self._spill, self._offset, self._length = spill, offset, length

    def read(self) -> str:
        return self._spill.read(self._offset, self._length)


class TextSpill:
    """An append-only file of UTF-8 texts; ``put`` returns what to keep in their place."""

    def __init__(self, folder: Path | None = None) -> None:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        # unlinked at once: the file lives as long as this object, whatever happens to the run
        self._file = tempfile.TemporaryFile(prefix="hoering-texts-", dir=folder)  # noqa: SIM115
        self._fd = self._file.fileno()
        self._pending = bytearray()
        self._written = 0  # bytes in the file; the pending ones follow

    def put(self, text: str) -> str | SpilledText:
        if len(text) < KEEP_BELOW:
            return text
        data = text.encode("utf-8", "surrogatepass")  # what came from the database, exactly
        offset = self._written + len(self._pending)
        self._pending += data
        if len(self._pending) >= FLUSH_BYTES:
            self._flush()
        return SpilledText(self, offset, len(data))

    def read(self, offset: int, length: int) -> str:
        if offset + length > self._written:
            self._flush()
        data = os.pread(self._fd, length, offset)
        return data.decode("utf-8", "surrogatepass")

    @property
    def size(self) -> int:
        return self._written + len(self._pending)

    def _flush(self) -> None:
        data = bytes(self._pending)
        self._pending.clear()
        done = 0
        while done < len(data):
            done += os.pwrite(self._fd, data[done:], self._written + done)
        self._written += len(data)


class TextsById(Mapping[int, str]):
    """Texts by id, each kept or spilled, read when asked for (e.g. by campaign grouping)."""

    def __init__(self, contents: Mapping[int, str | LazyText]) -> None:
        self._contents = contents

    def __getitem__(self, key: int) -> str:
        return resolve(self._contents[key])

    def __iter__(self) -> Iterator[int]:
        return iter(self._contents)

    def __len__(self) -> int:
        return len(self._contents)
