"""The note's quality gate and the text hygiene every output shares. Pure functions, no I/O.

The gate runs over the Assembly and the facts of the note the writer is about to save, so a
missing response, an edited quote or a wrong count is reported instead of slipping through.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flows.core.assembly import Assembly, ResponseLine, StoredLink
from flows.core.danish import responses_phrase
from flows.core.model import PartyStatus

# Characters XML 1.0 cannot hold (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF):
# Word and Excel refuse a file holding them. And the invisible controls that reorder or hide text:
# bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069, U+200E/200F, U+061C), which
# make "gpj.exe" read as "exe.jpg" or a subject read backwards; zero-width characters and the
# invisible operators (U+200B-200D, U+2060-2064, U+FEFF, U+180E), deprecated format controls
# (U+206A-206F), interlinear annotations (U+FFF9-FFFB) and tag characters (U+E0000-E007F), which
# can carry text no reader sees. Emoji joined by U+200D fall apart into their parts; nothing
# Danish is lost. All are dropped wherever outside text is shown: log, note, PDF, mail, status.
_NOT_SHOWN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
    "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_TAGS = re.compile("[\U000e0000-\U000e007f]")


def clean_text(text: str) -> str:
    """The text as it may be shown: no character XML cannot hold, no invisible bidi or zero-width control."""
    text = _NOT_SHOWN.sub("", text)
    # A range outside the BMP makes the regex half as fast again on every text, and the log cleans
    # millions of them; tag characters need one, so that pass runs only on text with such characters
    # (then UTF-16 needs more than two bytes for some character).
    if not text.isascii() and len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text):
        text = _TAGS.sub("", text)
    return text


def text_key(text: str) -> int:
    """A 64-bit digest of a text, for comparing quotes without keeping them (1M texts are GBs)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Quotes:
    """The (response number, quoted text) pairs of a note, kept as two machine arrays of keys."""

    def __init__(self, pairs: Iterable[tuple[int, str]] = ()) -> None:
        self._numbers = array("q")
        self._keys = array("Q")
        for number, text in pairs:
            self.add(number, text)

    def add(self, number: int, text: str) -> None:
        self._numbers.append(number)
        self._keys.append(text_key(text.strip()))

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._numbers, self._keys, strict=True)

    def columns(self) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.uint64]]]:
        """The numbers and the keys as arrays over the same memory (no copy)."""
        numbers = np.frombuffer(self._numbers, np.int64) if self._numbers else np.zeros(0, np.int64)
        keys = np.frombuffer(self._keys, np.uint64) if self._keys else np.zeros(0, np.uint64)
        return numbers, keys

    def __len__(self) -> int:
        return len(self._numbers)


@dataclass(frozen=True)
class NoteFacts:
    """What the note writer is about to write, in the terms the gate checks."""

    count_sentence: str
    counted: int
    listed: tuple[str, ...]
    quoted: Quotes
    covered: frozenset[int]
    remarks_shown: tuple[str, ...] | None = None  # by section: the remark numbers, as often as shown


@dataclass
class QualityReport:
    """Problems found before the note was saved; each is shown on the note's first page."""

    problems: list[str] = field(default_factory=list)
    placeholders: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_note(assembly: Assembly, facts: NoteFacts, *, include_late: bool) -> QualityReport:
    """Every counted response appears, quotes are verbatim, the count is right, every party has a status."""
    report = QualityReport()
    report.problems.extend(_missing_responses(assembly, facts, include_late=include_late))
    report.problems.extend(_altered_quotes(assembly, facts))
    report.problems.extend(_wrong_count(assembly, facts))
    report.problems.extend(_unlisted_parties(assembly, facts))
    report.problems.extend(_parties_without_status(assembly))
    report.problems.extend(check_chain(assembly.stored))
    if facts.remarks_shown is not None:
        report.problems.extend(remarks_once(assembly, facts.remarks_shown))
    return report


def link_intact(link: StoredLink) -> bool:
    """The stored raw message is there and hashes to what was recorded (a typed-in response has none)."""
    if link.recorded is None:
        return link.typed_in
    return link.found is not None and link.found == link.recorded


def check_chain(links: Iterable[StoredLink]) -> list[str]:
    """Every counted response leads to its stored raw message, whose bytes are what was recorded.

    ``links`` may be only the broken ones (``services.chain`` keeps no others): intact links add
    nothing to what is reported."""
    missing, altered = [], []
    for link in links:
        if link_intact(link):
            continue
        if link.recorded is None or link.found is None:
            missing.append(link.number)
        else:
            altered.append(link.number)
    problems = []
    if missing:
        numbers = ", ".join(map(str, missing[:10]))
        problems.append(f"den gemte råbesked mangler for høringssvar nr. {numbers}")
    if altered:
        numbers = ", ".join(map(str, altered[:10]))
        problems.append(f"den gemte råbesked for høringssvar nr. {numbers} svarer ikke til sin SHA-256")
    return problems


def remarks_once(assembly: Assembly, shown: Iterable[str]) -> list[str]:
    """Every counted on-time remark appears exactly once (a note by sections could lose or repeat one).

    A national round shows millions of remarks: each number is read as one integer (``_RemarkKeys``),
    the wanted ones in one array in the assembly's order, and the shown ones are counted by sorting
    their array; only the numbers found wrong become strings again."""
    keys = _RemarkKeys()
    with_remarks = np.sort(np.fromiter((r.number for r in assembly.on_time if not r.no_remarks), np.int64))
    of_response = np.fromiter((m.response_number for m in assembly.remarks), np.int64)
    own = np.fromiter((keys.of(m.number) for m in assembly.remarks), np.int64)
    wanted = np.where(_isin_sorted(of_response, with_remarks), own, _NOT_WANTED)
    del of_response, own
    seen, times = np.unique(np.fromiter((keys.of(n) for n in shown), np.int64), return_counts=True)
    problems = []
    absent = np.flatnonzero((wanted != _NOT_WANTED) & ~_isin_sorted(wanted, seen))
    if len(absent):
        missing = [assembly.remarks[int(i)].number for i in absent[:10]]
        more = f" og {len(absent) - 10} flere" if len(absent) > 10 else ""
        word = "bemærkning" if len(absent) == 1 else "bemærkninger"
        problems.append(f"{len(absent)} {word} mangler i notatet: nr. {', '.join(missing)}{more}")
    twice = sorted(keys.text(int(k)) for k in seen[times > 1])
    if twice:
        problems.append(f"bemærkning nr. {', '.join(twice[:10])} står flere gange i notatet")
    unknown = sorted(keys.text(int(k)) for k in seen[~_isin_sorted(seen, np.sort(wanted))])
    if unknown:
        problems.append(f"notatet citerer bemærkning nr. {', '.join(unknown[:10])}, som ikke er talt med")
    return problems


_NOT_WANTED = -1
_POSITION_BITS = 20  # a remark's position within its response: "7.3" is (7 << 20) | 3


class _RemarkKeys:
    """Remark numbers ("7.3") as integers that compare as the strings do for equality.

    A number in the shown form (digits, a dot, digits, no leading zeros) is packed into one
    integer; anything else gets its own negative key, kept with its text (there are none in
    practice, and a wrong number must still be named as it was written)."""

    def __init__(self) -> None:
        self._odd: dict[str, int] = {}
        self._odd_text: dict[int, str] = {}

    def of(self, number: str) -> int:
        head, dot, tail = number.partition(".")
        if dot and _plain_digits(head) and _plain_digits(tail) and len(head) < 12:
            position = int(tail)
            if position < 1 << _POSITION_BITS:
                return int(head) << _POSITION_BITS | position
        key = self._odd.get(number)
        if key is None:
            key = self._odd[number] = _NOT_WANTED - 1 - len(self._odd)
            self._odd_text[key] = number
        return key

    def text(self, key: int) -> str:
        if key < 0:
            return self._odd_text[key]
        return f"{key >> _POSITION_BITS}.{key & ((1 << _POSITION_BITS) - 1)}"


def _plain_digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and (text == "0" or not text.startswith("0"))


def _isin_sorted(values: np.ndarray[Any, Any], sorted_pool: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """For each of ``values``, whether it is in ``sorted_pool`` (sorted ascending)."""
    if not len(sorted_pool):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_pool, values), len(sorted_pool) - 1)
    return np.asarray(sorted_pool[at] == values)


def _missing_responses(assembly: Assembly, facts: NoteFacts, *, include_late: bool) -> list[str]:
    wanted = assembly.responses if include_late else assembly.on_time
    count, first = 0, list[ResponseLine]()  # only what the message shows is kept
    for r in wanted:
        if r.number not in facts.covered:
            count += 1
            if len(first) < 10:
                first.append(r)
    if not count:
        return []
    names = ", ".join(f"nr. {r.number} ({r.party})" for r in first)
    more = f" og {count - 10} flere" if count > 10 else ""
    return [f"{count} høringssvar mangler i notatet: {names}{more}"]


class _ByNumber:
    """Where the items of each response number are, from one array of their numbers."""

    def __init__(self, numbers: Iterable[int]) -> None:
        found = np.fromiter(numbers, np.int64)
        # the assembly's lines come in number order: then the array is its own index
        self._order = None if bool(np.all(found[1:] >= found[:-1])) else np.argsort(found, kind="stable")
        self._sorted = found if self._order is None else found[self._order]

    def of(self, number: int) -> list[int]:
        low, high = (int(i) for i in np.searchsorted(self._sorted, [number, number + 1]))
        return list(range(low, high)) if self._order is None else [int(i) for i in self._order[low:high]]


def _altered_quotes(assembly: Assembly, facts: NoteFacts) -> list[str]:
    """Each quote is the text of its response or of one of its remarks.

    The quotes are taken by response number (one sort of their numbers), and only the texts of a
    quoted response are keyed, each time for that response alone: no key of every text is held."""
    numbers, keys = facts.quoted.columns()
    if not len(numbers):
        return []
    responses = _ByNumber(r.number for r in assembly.responses)
    remarks = _ByNumber(m.response_number for m in assembly.remarks)
    order = np.argsort(numbers, kind="stable")
    by_number = numbers[order]
    starts = np.flatnonzero(np.concatenate(([True], by_number[1:] != by_number[:-1])))
    ends = np.append(starts[1:], len(order))
    bad: list[int] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        number = int(by_number[start])
        stored = {text_key(clean_text(assembly.responses[i].text).strip()) for i in responses.of(number)}
        stored.update(text_key(clean_text(assembly.remarks[i].text).strip()) for i in remarks.of(number))
        bad.extend(int(q) for q in order[start:end] if int(keys[q]) not in stored)
    if not bad:
        return []
    first = [str(int(numbers[q])) for q in sorted(bad)[:10]]  # in the note's order, as quoted
    return [f"citatet fra høringssvar nr. {', '.join(first)} svarer ikke til det modtagne svar"]


def _wrong_count(assembly: Assembly, facts: NoteFacts) -> list[str]:
    n = len(assembly.on_time)
    problems = []
    if facts.counted != n:
        problems.append(f"notatet tæller {facts.counted} rettidige høringssvar, men der er modtaget {n}")
    if responses_phrase(n) not in facts.count_sentence:
        problems.append(f"antallet i ord passer ikke: forventede »{responses_phrase(n)}«")
    return problems


def _unlisted_parties(assembly: Assembly, facts: NoteFacts) -> list[str]:
    expected = list(dict.fromkeys(r.party for r in assembly.on_time))
    if list(facts.listed) == expected:
        return []
    missing = [p for p in expected if p not in facts.listed]
    extra = [p for p in facts.listed if p not in expected]
    parts = []
    if missing:
        parts.append("mangler " + ", ".join(missing[:10]))
    if extra:
        parts.append("uventet " + ", ".join(extra[:10]))
    return ["listen over parter, der har svaret, passer ikke (" + ("; ".join(parts) or "rækkefølge") + ")"]


def _parties_without_status(assembly: Assembly) -> list[str]:
    valid = set(PartyStatus)
    answered = {r.party for r in assembly.on_time}
    problems = [
        f"høringsparten {p.name} har ingen gyldig status" for p in assembly.parties if p.status not in valid
    ]
    contradicted = [
        p.name for p in assembly.parties if p.name in answered and p.status is PartyStatus.NOT_ANSWERED
    ]
    if contradicted:
        problems.append("status »Ikke svaret« for parter, der har svaret: " + ", ".join(contradicted[:10]))
    return problems
