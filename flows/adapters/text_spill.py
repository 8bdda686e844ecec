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
from array import array
from bisect import bisect_left
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

    @property
    def place(self) -> tuple[int, int]:
        """Where it lies in its spill: (offset, length in bytes)."""
        return self._offset, self._length


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
        offset, length = self.put_bytes(data)
        return SpilledText(self, offset, length)

    def put_bytes(self, data: bytes) -> tuple[int, int]:
        """Append ``data``; where it lies: (offset, length)."""
        offset = self._written + len(self._pending)
        self._pending += data
        if len(self._pending) >= FLUSH_BYTES:
            self._flush()
        return offset, len(data)

    def read_bytes(self, offset: int, length: int) -> bytes:
        if offset + length > self._written:
            self._flush()
        return os.pread(self._fd, length, offset)

    def read(self, offset: int, length: int) -> str:
        return self.read_bytes(offset, length).decode("utf-8", "surrogatepass")

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


class SpilledTexts(Mapping[int, str]):
    """Texts by id, gathered one at a time and kept in the spill: 16 bytes each in memory.

    For campaign grouping at national scale, where a dict of a million ids to handles costs more
    than the grouping's own signatures. ``add`` them, then ``done()``; ids iterate in order.
    """

    def __init__(self, spill: TextSpill) -> None:
        self._spill = spill
        self._ids, self._offsets, self._lengths = array("q"), array("q"), array("l")

    def add(self, key: int, text: str) -> None:
        offset, length = self._spill.put_bytes(text.encode("utf-8", "surrogatepass"))
        self._ids.append(key)
        self._offsets.append(offset)
        self._lengths.append(length)

    def done(self) -> SpilledTexts:
        """Sorted by id, for lookups (each id is added once)."""
        order = sorted(range(len(self._ids)), key=self._ids.__getitem__)
        self._ids = array("q", (self._ids[i] for i in order))
        self._offsets = array("q", (self._offsets[i] for i in order))
        self._lengths = array("l", (self._lengths[i] for i in order))
        return self

    def __getitem__(self, key: int) -> str:
        at = bisect_left(self._ids, key)
        if at == len(self._ids) or self._ids[at] != key:
            raise KeyError(key)
        return self._spill.read(self._offsets[at], self._lengths[at])

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
