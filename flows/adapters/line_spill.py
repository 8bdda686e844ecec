"""A list of output lines kept in the text spill file, so a national round's lines cost 16 bytes each.

A round of 1,000,000 messages has about 350,000 counted responses, 670,000 remarks and 600,000
items in `Til gennemsyn`. As Python objects (a slotted line and its strings, dates and handles)
they took about 1.3 KB apiece and set ``assemble``'s peak above a gigabyte. Here each line is
written once into the spill file of its texts and read back when it is shown: the log, the note,
the quality gate, the public version and the bundle each walk the lines in receipt order, one
at a time, so only the line being written is ever in memory.

A dataclass line is stored as a ``marshal`` row of its fields (``_Codec``): a spilled text as its
place in the same file, a date as its parts, an enum member and a time zone as an index into a
small table, and a long tuple many lines share (a campaign's names) as an index to the one copy
kept in memory. Reading a row back costs about 40 % of unpickling the dataclass (whose
``__setstate__`` walks ``dataclasses.fields`` for every line); anything else is pickled. Replacing
a line (placements, the chain's SHA-256) appends its new version; the old bytes stay unread.
"""

from __future__ import annotations

import dataclasses
import io
import marshal
import pickle
from array import array
from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from datetime import datetime, tzinfo
from enum import Enum
from typing import Any, Generic, TypeVar, overload

from flows.adapters.text_spill import SpilledText, TextSpill

T = TypeVar("T")


SHARE_FROM = 8  # items: a tuple this long is kept once in memory, not copied into every line


class _Table:
    """Objects rows refer to by index, kept once by identity: shared tuples, enum members, zones."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._index: dict[int, int] = {}  # id → index; ``values`` keeps each object alive

    def has(self, value: Any) -> bool:
        return id(value) in self._index

    def index(self, value: Any) -> int:
        key = id(value)
        if key not in self._index:
            self._index[key] = len(self.values)
            self.values.append(value)
        return self._index[key]


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: _Table) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is SpilledText:
            return ("text", *obj.place)
        if type(obj) is tuple and (len(obj) >= SHARE_FROM or self._shared.has(obj)):
            return ("shared", self._shared.index(obj))
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, spill: TextSpill, shared: _Table) -> None:
        super().__init__(io.BytesIO(data))
        self._spill, self._shared = spill, shared

    def persistent_load(self, pid: Any) -> Any:
        if pid[0] == "shared":
            return self._shared.values[pid[1]]
        _kind, offset, length = pid
        return SpilledText(self._spill, offset, length)


_PLAIN = frozenset((str, int, bool, float, bytes, type(None)))
# what a field holds in a row: itself, a text's place, a shared tuple, a date, an enum member, a pickle
PLAIN, TEXT, SHARED, DATE, MEMBER, PICKLED = range(6)
ROW_PICKLED = -1  # the shape index of a line that is not a plain dataclass: the row is its pickle


class _Shape:
    """How a dataclass's lines become rows and back: its field names, and a builder from values."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.names = tuple(f.name for f in dataclasses.fields(cls))
        slots = getattr(cls, "__slots__", ())
        if not hasattr(cls, "__post_init__") and set(self.names) <= set(slots):
            # the slots' own setters: a frozen dataclass's __init__ goes through object.__setattr__
            # by name for every field, twice the cost of reading the row
            self._setters = tuple(cls.__dict__[name].__set__ for name in self.names)
            self.build = self._set_slots
        else:
            self.build = self._call

    def _set_slots(self, values: Sequence[Any]) -> Any:
        line: Any = object.__new__(self.cls)
        for set_value, value in zip(self._setters, values, strict=True):
            set_value(line, value)
        return line

    def _call(self, values: Sequence[Any]) -> Any:
        return self.cls(*values)


def _shape_of(cls: type) -> _Shape | None:
    """The shape of a dataclass built from its fields alone (every field in ``__init__``); else None."""
    if not dataclasses.is_dataclass(cls):
        return None
    if not all(f.init for f in dataclasses.fields(cls)):
        return None
    return _Shape(cls)


class _Codec:
    """A dataclass line as a ``marshal`` row: (shape, fields not stored as themselves, fields)."""

    def __init__(self, spill: TextSpill) -> None:
        self._spill = spill
        self._shared = _Table()
        self._shapes: list[_Shape] = []
        self._shape_index: dict[type, int | None] = {}
        self._members, self._zones = _Table(), _Table()
        self._buffer = io.BytesIO()
        self._pickler = _Pickler(self._buffer, self._shared)

    def share(self, value: tuple[Any, ...]) -> None:
        self._shared.index(value)

    def _shape_for(self, cls: type) -> int | None:
        if cls not in self._shape_index:
            shape = _shape_of(cls)
            self._shape_index[cls] = None if shape is None else len(self._shapes)
            if shape is not None:
                self._shapes.append(shape)
        return self._shape_index[cls]

    def dump(self, line: Any) -> bytes:
        index = self._shape_for(type(line))
        if index is None:
            return marshal.dumps((ROW_PICKLED, self._pickle(line)))
        special: list[int] = []  # position, kind: the fields that are not stored as themselves
        row: list[Any] = [index, ()]
        for position, name in enumerate(self._shapes[index].names):
            kind, encoded = self._encode(getattr(line, name))
            if kind != PLAIN:
                special += (position, kind)
            row.append(encoded)
        row[1] = tuple(special)
        return marshal.dumps(tuple(row))

    def load(self, data: bytes) -> Any:
        row = marshal.loads(data)  # noqa: S302  # our own rows, in an unlinked file of this process
        if row[0] == ROW_PICKLED:
            return self._unpickle(row[1])
        shape, special = self._shapes[row[0]], row[1]
        values = list(row[2:])
        for at in range(0, len(special), 2):
            position, kind = special[at], special[at + 1]
            value = values[position]
            if kind == TEXT:
                values[position] = SpilledText(self._spill, value[0], value[1])
            elif kind == MEMBER:
                values[position] = self._members.values[value]
            else:
                values[position] = self._decode(kind, value)
        return shape.build(values)

    def _encode(self, value: Any) -> tuple[int, Any]:
        kind = type(value)
        if kind in _PLAIN:
            return PLAIN, value
        if kind is SpilledText:
            return TEXT, value.place
        if kind is tuple:
            if len(value) >= SHARE_FROM or self._shared.has(value):
                return SHARED, self._shared.index(value)
            if all(type(item) in _PLAIN for item in value):
                return PLAIN, value
        if kind is datetime:
            zone = None if value.tzinfo is None else self._zones.index(value.tzinfo)
            parts = (value.year, value.month, value.day, value.hour, value.minute, value.second)
            return DATE, (*parts, value.microsecond, value.fold, zone)
        if isinstance(value, Enum):
            return MEMBER, self._members.index(value)
        return PICKLED, self._pickle(value)

    def _decode(self, kind: int, value: Any) -> Any:
        if kind == DATE:
            year, month, day, hour, minute, second, micro, fold, at = value
            zone: tzinfo | None = None if at is None else self._zones.values[at]
            return datetime(year, month, day, hour, minute, second, micro, tzinfo=zone, fold=fold)
        if kind == SHARED:
            return self._shared.values[value]
        return self._unpickle(value)

    def _pickle(self, value: Any) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pickler.clear_memo()
        self._pickler.dump(value)
        return self._buffer.getvalue()

    def _unpickle(self, data: bytes) -> Any:
        return _Unpickler(data, self._spill, self._shared).load()


class SpilledLines(MutableSequence[T], Generic[T]):
    """A sequence of frozen dataclass lines stored in ``spill``; reading one rebuilds it anew."""

    def __init__(self, spill: TextSpill, lines: Iterable[T] = ()) -> None:
        self._spill = spill
        self._offsets = array("q")
        self._lengths = array("l")
        self._codec = _Codec(spill)
        for line in lines:
            self.append(line)

    def share(self, value: tuple[Any, ...]) -> tuple[Any, ...]:
        """Keep ``value`` once: every line that holds it reads back this very tuple."""
        self._codec.share(value)
        return value

    def _dump(self, line: T) -> tuple[int, int]:
        return self._spill.put_bytes(self._codec.dump(line))

    def _load(self, index: int) -> T:
        line: T = self._codec.load(self._spill.read_bytes(self._offsets[index], self._lengths[index]))
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
