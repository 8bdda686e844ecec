"""The note's quality gate and the text hygiene every output shares. Pure functions, no I/O.

The gate runs over the Assembly and the facts of the note the writer is about to save, so a
missing response, an edited quote or a wrong count is reported instead of slipping through.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from flows.core.assembly import Assembly, StoredLink
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


def check_chain(links: Iterable[StoredLink]) -> list[str]:
    """Every counted response leads to its stored raw message, whose bytes are what was recorded."""
    missing, altered = [], []
    for link in links:
        if link.recorded is None:
            if not link.typed_in:
                missing.append(link.number)
        elif link.found is None:
            missing.append(link.number)
        elif link.found != link.recorded:
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
    """Every counted on-time remark appears exactly once (a note by sections could lose or repeat one)."""
    times = Counter(shown)
    on_time = {r.number for r in assembly.on_time if not r.no_remarks}
    wanted = [m.number for m in assembly.remarks if m.response_number in on_time]
    problems = []
    missing = [n for n in wanted if times[n] == 0]
    if missing:
        more = f" og {len(missing) - 10} flere" if len(missing) > 10 else ""
        word = "bemærkning" if len(missing) == 1 else "bemærkninger"
        problems.append(f"{len(missing)} {word} mangler i notatet: nr. {', '.join(missing[:10])}{more}")
    twice = sorted(n for n, k in times.items() if k > 1)
    if twice:
        problems.append(f"bemærkning nr. {', '.join(twice[:10])} står flere gange i notatet")
    unknown = sorted(set(times) - set(wanted))
    if unknown:
        problems.append(f"notatet citerer bemærkning nr. {', '.join(unknown[:10])}, som ikke er talt med")
    return problems


def _missing_responses(assembly: Assembly, facts: NoteFacts, *, include_late: bool) -> list[str]:
    wanted = assembly.responses if include_late else assembly.on_time
    missing = [r for r in wanted if r.number not in facts.covered]
    if not missing:
        return []
    names = ", ".join(f"nr. {r.number} ({r.party})" for r in missing[:10])
    more = f" og {len(missing) - 10} flere" if len(missing) > 10 else ""
    return [f"{len(missing)} høringssvar mangler i notatet: {names}{more}"]


def _stored_texts(assembly: Assembly) -> dict[int, set[int]]:
    """Per response number, the keys of the texts a quote may reproduce (its own and its remarks')."""
    texts: dict[int, set[int]] = {
        r.number: {text_key(clean_text(r.text).strip())} for r in assembly.responses
    }
    for remark in assembly.remarks:
        texts.setdefault(remark.response_number, set()).add(text_key(clean_text(remark.text).strip()))
    return texts


def _altered_quotes(assembly: Assembly, facts: NoteFacts) -> list[str]:
    stored = _stored_texts(assembly)
    bad = [number for number, key in facts.quoted if key not in stored.get(number, set())]
    if not bad:
        return []
    return [f"citatet fra høringssvar nr. {', '.join(map(str, bad[:10]))} svarer ikke til det modtagne svar"]


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
