"""The read model the log and the note are written from, and the staff edits read back.

``services.assembling`` builds an ``Assembly`` from the database; the Excel and Word writers
(adapters) turn it into files. Writers never query the database themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar, overload

from flows.core.model import Channel, PartyStatus, Round
from flows.core.sections import Section

STANDARD_REPLY = "Forvaltningen tager bemærkningen til efterretning."


class LazyText(Protocol):
    """A text kept outside memory (a national round's texts do not fit), read when shown."""

    def read(self) -> str: ...


def resolve(content: str | LazyText) -> str:
    return content if isinstance(content, str) else content.read()


@dataclass(frozen=True)
class PartyLine:
    name: str
    emails: tuple[str, ...]
    invited_at: datetime | None
    status: PartyStatus
    responses: int
    latest: datetime | None


@dataclass(frozen=True, slots=True)
class ResponseLine:
    number: int
    reference: str
    party: str
    sender: str
    received_at: datetime
    channel: Channel
    late: bool
    subject: str
    content: str | LazyText
    attachments: tuple[str, ...] = ()
    no_remarks: bool = False
    campaign: str | None = None
    campaign_size: int = 1
    campaign_parties: tuple[str, ...] = ()
    sha256: str = ""  # of the stored raw message it was parsed from (the log's SHA-256 column)
    full_content: str | LazyText = ""  # the whole body when the note's quote is trimmed from it

    @property
    def text(self) -> str:
        return resolve(self.content)

    @property
    def full_text(self) -> str:
        return resolve(self.full_content)


@dataclass(frozen=True, slots=True)
class StoredLink:
    """The last link of a counted response's chain: its raw message on record and on disk."""

    number: int
    recorded: str | None  # the sha256 on record; None: no raw message is on record
    found: str | None  # the sha256 of the file there now; None: no file is there
    typed_in: bool = False  # a response staff typed in has no raw message


@dataclass(frozen=True, slots=True)
class RemarkLine:
    number: str
    response_number: int
    party: str
    section: str
    content: str | LazyText
    proposal: str
    late: bool = False
    reference: str = ""  # ROUND-0007.1: stable, whatever number the outputs show
    placed_by: str = ""  # `Placeret ud fra`: how `section` was found in the draft
    placed_at: int | None = None  # the position of its section in the draft; None: Generelt

    @property
    def text(self) -> str:
        return resolve(self.content)


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """An item that needs a person: unknown or unverified sender, bounce, unreadable file…"""

    reference: str
    received_at: datetime
    sender: str
    subject: str
    reason: str
    party_hint: str = ""
    decision: str = ""
    decided_party: str = ""


@dataclass(frozen=True)
class StaffNote:
    """What staff wrote for one remark."""

    reply: str = ""
    change: str = ""
    gives_change: str = ""

    def is_empty(self) -> bool:
        return not (self.reply.strip() or self.change.strip() or self.gives_change.strip())

    @property
    def changes_draft(self) -> bool:
        """A change to the draft: marked Ja/Delvist, or a change written with the mark left empty."""
        mark = self.gives_change.strip()
        return mark in ("Ja", "Delvist") or (not mark and bool(self.change.strip()))


@dataclass(frozen=True)
class StaffEdits:
    """Everything a person typed into the log, read back before it is rewritten."""

    notes: dict[str, StaffNote] = field(default_factory=dict)
    decisions: dict[str, tuple[str, str]] = field(default_factory=dict)


T = TypeVar("T")


class Filtered(Sequence[T], Generic[T]):
    """The lines of ``lines`` that ``keep`` keeps, walked anew each time: never a second list.

    A national round's lines are read one at a time from a spill (``adapters.line_spill``); a
    list of the on-time ones would hold them all in memory at once. The length is counted once.
    """

    def __init__(self, lines: Sequence[T], keep: Callable[[T], bool]) -> None:
        self._lines, self._keep = lines, keep
        self._count: int | None = None

    def __iter__(self) -> Iterator[T]:
        return (line for line in self._lines if self._keep(line))

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self)
        return self._count

    def __bool__(self) -> bool:
        return any(True for _ in self)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        for position, line in enumerate(self):
            if position == index:
                return line
        raise IndexError(index)


@dataclass
class Assembly:
    """Everything the outputs show for one round.

    ``responses``, ``remarks`` and ``review`` are sequences walked in receipt order; for a round
    of any size they are spilled to disk (``adapters.line_spill``) and each read yields a fresh
    line, so writers iterate them and never keep them.
    """

    round: Round
    generated_at: datetime
    parties: list[PartyLine]
    responses: MutableSequence[ResponseLine]
    remarks: MutableSequence[RemarkLine]
    review: Sequence[ReviewLine]
    notes: dict[str, StaffNote] = field(default_factory=dict)
    stored: tuple[StoredLink, ...] = ()  # the broken links (services.chain); the quality gate reports them
    sections: tuple[Section, ...] = ()  # the draft's own sections, in its order (may be none)
    _views: dict[tuple[int, bool], Filtered[ResponseLine]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def on_time(self) -> Filtered[ResponseLine]:
        return self._by_lateness(late=False)

    @property
    def late(self) -> Filtered[ResponseLine]:
        return self._by_lateness(late=True)

    def _by_lateness(self, *, late: bool) -> Filtered[ResponseLine]:
        # one view per list and kind, so its count is made once (a replaced line keeps its lateness)
        key = (id(self.responses), late)
        if key not in self._views:
            self._views[key] = Filtered(self.responses, lambda r: r.late is late)
        return self._views[key]


class RemarksOf:
    """Each response's remarks, asked for in the responses' order: one walk, nothing kept.

    The remarks are in their responses' receipt order (``services.assembly_read``), so asking for
    response after response in that order walks them once. Lines built by hand in another order
    are grouped in memory instead.
    """

    def __init__(self, remarks: Iterable[RemarkLine]) -> None:
        self._remarks = remarks
        self._in_order = _ascending(m.response_number for m in remarks)
        self._walk: Iterator[RemarkLine] = iter(remarks) if self._in_order else iter(())
        self._next: RemarkLine | None = next(self._walk, None)
        self._grouped: dict[int, list[RemarkLine]] | None = None

    def of(self, number: int) -> list[RemarkLine]:
        """The remarks of response ``number``, in their order; numbers must be asked in ascending order."""
        if not self._in_order:
            if self._grouped is None:
                self._grouped = {}
                for m in self._remarks:
                    self._grouped.setdefault(m.response_number, []).append(m)
            return self._grouped.get(number, [])
        found = []
        while self._next is not None and self._next.response_number <= number:
            if self._next.response_number == number:
                found.append(self._next)
            self._next = next(self._walk, None)
        return found


def in_receipt_order(responses: Sequence[ResponseLine]) -> Iterable[ResponseLine]:
    """The responses by receipt, then number: as they are when read, so walked without a sort."""
    key = None
    for r in responses:
        if key is not None and (r.received_at, r.number) < key:
            return sorted(responses, key=lambda line: (line.received_at, line.number))
        key = (r.received_at, r.number)
    return responses


def _ascending(numbers: Iterable[int]) -> bool:
    last = None
    for number in numbers:
        if last is not None and number < last:
            return False
        last = number
    return True
