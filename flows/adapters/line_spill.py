"""A list of output lines kept in the text spill file, so a national round's lines cost 12 bytes each.

A round of 1,000,000 messages has about 350,000 counted responses, 670,000 remarks and 600,000
items in `Til gennemsyn`. As Python objects (a slotted line and its strings, dates and handles)
they took about 1.3 KB apiece and set ``assemble``'s peak above a gigabyte. Here each line is
pickled once into the spill file of its texts and read back when it is shown: the log, the note,
the quality gate, the public version and the bundle each walk the lines in receipt order, one
at a time, so only the line being written is ever in memory.

A line's spilled texts travel as their place in the same file (pickle's ``persistent_id``), not
as copies, and a long tuple many lines share (a campaign's names) is kept once in memory. Replacing a line (placements, the chain's SHA-256) appends its new version; the old
bytes stay unread.
"""

from __future__ import annotations

import io
import pickle
from array import array
from collections.abc import Iterable, Iterator, MutableSequence
from typing import Any, Generic, TypeVar, overload

from flows.adapters.text_spill import SpilledText, TextSpill

T = TypeVar("T")


SHARE_FROM = 8  # items: a tuple this long is kept once in memory, not copied into every line


class _Shared:
    """Long tuples that many lines hold (a campaign's names): kept once, by identity."""

    def __init__(self) -> None:
        self.values: list[tuple[Any, ...]] = []
        self._index: dict[int, int] = {}  # id → index; ``values`` keeps each object alive

    def has(self, value: tuple[Any, ...]) -> bool:
        return id(value) in self._index

    def index(self, value: tuple[Any, ...]) -> int:
        key = id(value)
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return self._index[key]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: _Shared) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is SpilledText:
            return ("text", *obj.place)
        if type(obj) is tuple and (len(obj) >= SHARE_FROM or self._shared.has(obj)):
            return ("shared", self._shared.index(obj))
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, spill: TextSpill, shared: _Shared) -> None:
        super().__init__(io.BytesIO(data))
        self._spill, self._shared = spill, shared

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "shared":
            return self._shared.values[pid[1]]
        _kind, offset, length = pid
        return SpilledText(self._spill, offset, length)


class SpilledLines(MutableSequence[T], Generic[T]):
    """A sequence of frozen dataclass lines stored in ``spill``; reading one unpickles it anew."""

    def __init__(self, spill: TextSpill, lines: Iterable[T] = ()) -> None:
        self._spill = spill
        self._offsets = array("q")
        self._lengths = array("l")
        self._buffer = io.BytesIO()
        self._shared = _Shared()
        self._pickler = _Pickler(self._buffer, self._shared)
        for line in lines:
            self.append(line)

    def share(self, value: tuple[Any, ...]) -> tuple[Any, ...]:
        """Keep ``value`` once: every line that holds it reads back this very tuple."""
        self._shared.index(value)
        return value

    def _dump(self, line: T) -> tuple[int, int]:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pickler.clear_memo()
        self._pickler.dump(line)
        return self._spill.put_bytes(self._buffer.getvalue())

    def _load(self, index: int) -> T:
        data = self._spill.read_bytes(self._offsets[index], self._lengths[index])
        line: T = _Unpickler(data, self._spill, self._shared).load()
        return line

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._load(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._load(index)

    @overload
    def __setitem__(self, index: int, value: T) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[T]) -> None: ...

    def __setitem__(self, index: int | slice, value: Any) -> None:
        if isinstance(index, slice):
            raise TypeError("spilled lines are replaced one at a time")
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        self._offsets[index], self._lengths[index] = self._dump(value)

    def __delitem__(self, index: int | slice) -> None:
        del self._offsets[index]
        del self._lengths[index]

    def insert(self, index: int, value: T) -> None:
        offset, length = self._dump(value)
        self._offsets.insert(index, offset)
        self._lengths.insert(index, length)

    def append(self, value: T) -> None:
        offset, length = self._dump(value)
        self._offsets.append(offset)
        self._lengths.append(length)

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self._offsets)):
            yield self._load(index)

    def __eq__(self, other: object) -> bool:
        # compares as the list it stands for (tests and callers compare lines with lists)
        if isinstance(other, SpilledLines):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"<SpilledLines: {len(self)} lines>"
