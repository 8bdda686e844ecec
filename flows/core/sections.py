"""The draft's own sections: what a heading line looks like and how a section is named.

Pure rules shared by the readers of .docx and .pdf drafts (``adapters.draft_sections``), the
placement of remarks (``core.placement``), the log's drop-down and the by-section note.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GENERAL = "Generelt"
"""The `Afsnit` of a remark that concerns no one section of the draft."""

MAX_TITLE_WORDS = 14  # a numbered line longer than this is a paragraph of text, not a heading

# "3.2 Økonomi", "1. Indledning", "§ 4. Kommunalbestyrelsen …", "§4 a Tilsyn"
_NUMBERED = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3}){0,4})\.?\s+(\S.*)$")
_PARAGRAPH = re.compile(r"^\s*(§\s*\d{1,4}\s?[a-z]?)\.?(?:\s+(\S.*))?$")


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the draft: its place in the draft's order, number, title, level, page, text."""

    position: int  # 1, 2, 3 … in the draft's order (over all documents of the round)
    number: str  # "3.2", "§ 4", or "" for an unnumbered heading
    title: str
    level: int  # 1 for a top heading
    page: int | None  # first page, where the document has pages
    text: str = ""
    document: str = ""

    @property
    def label(self) -> str:
        """How the log and the note name it: "3.2 Økonomi", "§ 4", "Indledning"."""
        return " ".join(part for part in (self.number, self.title) if part) or self.document or "Udkastet"


def number_key(number: str) -> str:
    """A section number compared the way people write it: "3.2." = "3.2", "§4" = "§ 4"."""
    number = number.strip().rstrip(".").replace("\u00a0", " ")
    if number.startswith("§"):
        return "§ " + re.sub(r"\s+", "", number[1:]).lower()
    return number


def heading_parts(line: str) -> tuple[str, str] | None:
    """(number, title) when the line reads as a numbered heading, else None.

    "§ 4. Kommunalbestyrelsen fører tilsyn med …" is a heading whose title is left out when the
    text after the number is a whole provision rather than a short title.
    """
    line = " ".join(line.split())
    if not line:
        return None
    if m := _PARAGRAPH.match(line):
        rest = (m.group(2) or "").strip()
        title = rest if rest and _short(rest) else ""
        return number_key(m.group(1)), title
    if m := _NUMBERED.match(line):
        number, title = m.group(1), m.group(2).strip()
        if not _short(title) or not any(ch.isalpha() for ch in title[:3]):
            return None
        if title.endswith((",", ";", ":")):
            return None
        return number_key(number), title
    return None


def _short(title: str) -> bool:
    return len(title.split()) <= MAX_TITLE_WORDS and len(title) <= 120


def _parts(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split(".") if p.isdigit())


def in_sequence(numbers: Iterable[str]) -> list[bool]:
    """Which dotted numbers continue the outline before them: 1, 2, 2.1, 2.2, 3 (a list that starts
    again at 1 inside section 5 is a list, not the draft's outline). "§" numbers always count."""
    seen: list[tuple[int, ...]] = []
    verdict = []
    for number in numbers:
        if number.startswith("§"):
            verdict.append(True)
            continue
        parts = _parts(number)
        ok = _follows(seen[-1] if seen else None, parts)
        verdict.append(ok)
        if ok:
            seen.append(parts)
    return verdict


def _follows(previous: tuple[int, ...] | None, parts: tuple[int, ...]) -> bool:
    if not parts:
        return False
    if previous is None:
        return parts in {(1,), (1, 1), (0,)} or (len(parts) == 1 and parts[0] <= 2)
    for depth in range(len(previous), -1, -1):
        # the next sibling at some depth, or the first child one level deeper
        if len(parts) == depth + 1 and parts[:depth] == previous[:depth]:
            if depth < len(previous) and parts[depth] == previous[depth] + 1:
                return True
            if depth == len(previous) and parts[depth] == 1:
                return True
    return False


def level_of(number: str) -> int:
    """1 for "3", 2 for "3.2"; a "§" is a top section."""
    return 1 if number.startswith("§") or not number else len(_parts(number)) or 1


WHOLE_DRAFT = "Hele udkastet"


def whole_draft(document: str, text: str, position: int = 1) -> Section:
    """The one section of a draft without recognisable headings: the draft itself."""
    return Section(position, "", WHOLE_DRAFT, 1, 1, text, document)


def choosable(sections: Sequence[Section]) -> bool:
    """Whether the draft has sections of its own to choose among (not only the whole draft)."""
    return len(sections) > 1 or (len(sections) == 1 and sections[0].title != WHOLE_DRAFT)


def unique_labels(sections: Sequence[Section]) -> list[str]:
    """Labels for a drop-down: two sections named alike get their document or page added."""
    labels = [s.label for s in sections]
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    result = []
    for section, label in zip(sections, labels, strict=True):
        if counts[label] > 1:
            where = f"side {section.page}" if section.page else f"nr. {section.position}"
            label = f"{label} ({section.document}, {where})" if section.document else f"{label} ({where})"
        result.append(label)
    return result
