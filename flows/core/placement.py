"""Where a remark belongs in the draft: the rules behind the log's `Afsnit`. Pure functions.

In this order, the first that answers wins:

1. a template remark's own `Afsnit` column, read as a reference ("3.2", "side 4", "§ 4") or a
   section title;
2. an explicit reference in the text: "side 7", "s. 7", "afsnit 3.2", "punkt 4", "kapitel 2",
   "§ 4", or a section's heading quoted (”Økonomi og finansiering”);
3. the section whose words it shares most: BM25 over the sections' titles and texts, with Danish
   Snowball stems (PyStemmer), when the best section scores above a threshold and clearly above
   the runner-up;
4. otherwise "Generelt".

A response that takes up several sections in separate paragraphs is split into one remark per
group of paragraphs (``split_by_section``); the full text stays whole in the response.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import Stemmer

from flows.core.sections import GENERAL, Section, heading_parts, number_key

# BM25's usual constants; the thresholds were set on the labelled remarks of tests/unit/
# test_placement.py and are checked there (precision and recall ≥ 0.85).
K1, B = 1.2, 0.75
MIN_SCORE = 4.0  # a best section below this shares too few telling words: "Generelt"
MIN_MARGIN = 1.25  # … and so does one hardly better than the second best
SPLIT_MIN_SCORE = 6.0  # a paragraph standing alone must be clearer before a response is split
SHORT_LEAD = 300  # characters of greeting or thanks before the first placed paragraph: kept with it


class Basis(StrEnum):
    """How a remark's section was found; shown in the log's `Placeret ud fra` (Danish there)."""

    TEMPLATE = "template"
    REFERENCE = "reference"
    WORDS = "words"
    GENERAL = "general"
    STAFF = "staff"
    SINGLE = "single"  # the draft has no sections of its own: everything is on the whole draft


@dataclass(frozen=True, slots=True)
class Placement:
    section: int | None  # the section's position, None for "Generelt"
    basis: Basis
    evidence: str = ""  # the reference found, or the score

    @property
    def general(self) -> bool:
        return self.section is None


def basis_text(placement: Placement) -> str:
    """The log's `Placeret ud fra`, in Danish."""
    basis, evidence = placement.basis, placement.evidence
    if basis is Basis.TEMPLATE:
        return f"Skemaets kolonne Afsnit: »{evidence}«"
    if basis is Basis.REFERENCE:
        return f"Henvisning i teksten: »{evidence}«"
    if basis is Basis.WORDS:
        return f"Fælles ord med afsnittet (score {evidence.replace('.', ',')})"
    if basis is Basis.STAFF:
        return "Valgt af forvaltningen"
    if basis is Basis.SINGLE:
        return "Udkastet har ingen afsnit: hele udkastet"
    return "Ingen henvisning eller tydelig sammenhæng med et afsnit"


# --------------------------------------------------------------------------------------- words

# Function words that say nothing about where a remark belongs.
_STOP_WORDS = """
    af alle allerede alt altid andre at bare bliver blev blive bør da dag de dem den denne dens der
    deres derfor det dette dig din disse dog du efter eller en end endnu er et ett får fik for
    fordi fra få gerne give godt hans har havde have hele her hende hendes hermed hos hun hvad hvem
    hver hvilke hvis hvor hvordan hvorfor i ikke ind ingen jeg jer jo kan kunne lidt man mange med
    meget men mener mere mig min mod må måske ned noget nogle nok nu når og også om op os over på
    samme selv sig sin sine sit skal skulle som særligt så således tak til tror ud under var vi vil
    ville vor vores være været ønsker synes bemærkning bemærkninger forslag forvaltningen
    forvaltningens udkast udkastet høring høringen høringssvar side afsnit punkt kapitel vedrørende
    ift fx mv evt mht
"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("danish")


def stems(text: str) -> list[str]:
    """The Danish stems of the telling words of ``text``."""
    words = [w for w in _WORD.findall(text.casefold()) if w not in _STOP]
    return list(_stemmer().stemWords(words))


class SectionIndex:
    """BM25 over the sections (title words counted twice: a heading says what a section is about)."""

    def __init__(self, sections: Sequence[Section], tokenize: Callable[[str], list[str]] = stems) -> None:
        self.sections = list(sections)
        self._tokenize = tokenize
        self._tf = [Counter(tokenize(f"{s.title} {s.title} {s.text}")) for s in self.sections]
        self._len = [sum(tf.values()) for tf in self._tf]
        self._avg = (sum(self._len) / len(self._len)) if self._len else 0.0
        df: Counter[str] = Counter()
        for tf in self._tf:
            df.update(tf.keys())
        n = len(self.sections)
        self._idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        self.by_number = {number_key(s.number): s for s in self.sections if s.number}
        self.by_position = {s.position: s for s in self.sections}

    def scores(self, text: str) -> list[float]:
        query = Counter(t for t in self._tokenize(text) if t in self._idf)
        result = []
        for tf, length in zip(self._tf, self._len, strict=True):
            score = 0.0
            norm = K1 * (1 - B + B * length / self._avg) if self._avg else K1
            for term, times in query.items():
                f = tf.get(term)
                if f:
                    # a word repeated in the remark counts, but less than once per use
                    score += self._idf[term] * f * (K1 + 1) / (f + norm) * (1 + math.log(times))
            result.append(score)
        return result

    def best(self, text: str, minimum: float = MIN_SCORE) -> tuple[Section | None, float]:
        """The section sharing most telling words, or None when none stands out."""
        scores = self.scores(text)
        if not scores:
            return None, 0.0
        ranked = sorted(range(len(scores)), key=lambda i: -scores[i])
        top = scores[ranked[0]]
        second = scores[ranked[1]] if len(ranked) > 1 else 0.0
        if top < minimum or top < MIN_MARGIN * second:
            return None, top
        return self.sections[ranked[0]], top


# --------------------------------------------------------------------------------------- references

_PAGE = re.compile(r"(?<![\w.])(?:side(?:rne|n)?|s\.)\s*(\d{1,4})\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\b(?:afsnit(?:tet)?|kapitel|kap\.|punkt(?:et)?|pkt\.|del)\s*(\d{1,3}(?:\.\d{1,3}){0,4})(?!\d)",
    re.IGNORECASE,
)
_PARA = re.compile(r"§{1,2}\s*(\d{1,4}(?:\s?[a-z]\b)?)", re.IGNORECASE)
_QUOTED = re.compile(r"[”\"“„«»‘'](.{3,120}?)[”\"“«»’']")


def _normal(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def references(text: str, index: SectionIndex) -> list[tuple[int, Section, str]]:
    """Every explicit reference in ``text`` that names a section: (offset, section, as written)."""
    found: list[tuple[int, Section, str]] = []
    for m in _NUMBER.finditer(text):
        if section := _by_number(index, m.group(1)):
            found.append((m.start(), section, m.group(0)))
    for m in _PARA.finditer(text):
        if section := index.by_number.get(number_key("§ " + m.group(1))):
            found.append((m.start(), section, m.group(0)))
    for m in _PAGE.finditer(text):
        if section := _by_page(index, int(m.group(1))):
            found.append((m.start(), section, m.group(0)))
    for m in _QUOTED.finditer(text):
        if section := _by_title(index, m.group(1)):
            found.append((m.start(), section, m.group(0)))
    return sorted(found, key=lambda f: f[0])


def _by_number(index: SectionIndex, number: str) -> Section | None:
    key = number_key(number)
    while key:
        if key in index.by_number:
            return index.by_number[key]
        key = key.rpartition(".")[0]  # "3.2.4" falls back to "3.2", then "3"
    return None


def _by_page(index: SectionIndex, page: int) -> Section | None:
    """The section that page belongs to: the last one starting on or before it (first document)."""
    paged = [s for s in index.sections if s.page is not None]
    if not paged:
        return None
    document = paged[0].document
    candidates = [s for s in paged if s.document == document and s.page is not None and s.page <= page]
    if not candidates:
        return None
    last_page = max(s.page or 0 for s in paged if s.document == document)
    if page > last_page + 30:  # "side 212" in a 12-page draft is something else
        return None
    return candidates[-1]


def _by_title(index: SectionIndex, quoted: str) -> Section | None:
    wanted = _normal(quoted)
    if len(wanted) < 4:
        return None
    for section in index.sections:
        title = _normal(section.title)
        if title and (title == wanted or (len(wanted.split()) >= 2 and wanted in title)):
            return section
    return None


# --------------------------------------------------------------------------------------- placing


def place(text: str, index: SectionIndex, template_section: str = "") -> Placement:
    """Where one remark belongs (see the module's docstring for the order of the rules)."""
    if not index.sections:
        return Placement(None, Basis.GENERAL)
    if len(index.sections) == 1 and not index.sections[0].number:
        return Placement(index.sections[0].position, Basis.SINGLE)
    column = template_section.strip()
    if column and not column.startswith("Bilag:"):
        if found := _template(column, index):
            return Placement(found.position, Basis.TEMPLATE, column)
        if _normal(column) in {
            "generelt",
            "generelle bemærkninger",
            "generel",
            "overordnet",
            "hele udkastet",
        }:
            return Placement(None, Basis.TEMPLATE, column)
    if refs := references(text, index):
        counts = Counter(s.position for _, s, _ in refs)
        position, _ = counts.most_common(1)[0]
        evidence = next(written for _, s, written in refs if s.position == position)
        return Placement(position, Basis.REFERENCE, evidence)
    section, score = index.best(text)
    if section is not None:
        return Placement(section.position, Basis.WORDS, f"{score:.1f}")
    return Placement(None, Basis.GENERAL)


def _template(column: str, index: SectionIndex) -> Section | None:
    if refs := references(column, index):
        return refs[0][1]
    if (parts := heading_parts(column)) and (found := _by_number(index, parts[0])):
        return found
    if re.fullmatch(r"§?\s*\d{1,3}(?:\.\d{1,3}){0,4}\.?\s*[a-z]?", column.strip()):
        return _by_number(index, column) or index.by_number.get(number_key("§ " + column.strip(" §")))
    return _by_title(index, column) or _by_title(index, column.strip("”\"'"))


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (blank-line separated), exactly as written."""
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")) if p.strip()]


def split_by_section(text: str, index: SectionIndex) -> list[tuple[str, Placement]]:
    """One piece per group of paragraphs on one section, when the text takes up several sections.

    A paragraph without its own clear section stays with the group before it; greetings and
    thanks before the first placed paragraph go with it when short, else they are their own
    general remark. A text about one section (or none) comes back whole, as one piece.
    """
    parts = paragraphs(text)
    whole = [(text.strip(), place(text, index))]
    if len(parts) < 2 or len(index.sections) < 2:
        return whole
    own: list[Placement | None] = [_own_placement(p, index) for p in parts]
    if len({p.section for p in own if p is not None and p.section is not None}) < 2:
        return whole
    groups: list[tuple[list[str], Placement | None]] = []
    for part, placed in zip(parts, own, strict=True):
        current = groups[-1] if groups else None
        if current is None:
            groups.append(([part], placed))
        elif placed is None:
            current[0].append(part)  # no clear section of its own: goes on with the one before
        elif current[1] is None:  # the lead before the first placed paragraph
            if sum(len(p) for p in current[0]) <= SHORT_LEAD:
                groups[-1] = ([*current[0], part], placed)
            else:
                groups.append(([part], placed))
        elif placed.section == current[1].section:
            current[0].append(part)
        else:
            groups.append(([part], placed))
    return [("\n\n".join(ps), placed or Placement(None, Basis.GENERAL)) for ps, placed in groups]


def _own_placement(paragraph: str, index: SectionIndex) -> Placement | None:
    if refs := references(paragraph, index):
        return Placement(refs[0][1].position, Basis.REFERENCE, refs[0][2])
    if (head := heading_parts(paragraph.split("\n", 1)[0])) and (found := _by_number(index, head[0])):
        return Placement(found.position, Basis.REFERENCE, head[0])
    section, score = index.best(paragraph, SPLIT_MIN_SCORE)
    if section is not None:
        return Placement(section.position, Basis.WORDS, f"{score:.1f}")
    return None


def label_of(placement: Placement, labels: dict[int, str]) -> str:
    """The `Afsnit` shown for a placement."""
    if placement.section is None:
        return GENERAL
    return labels.get(placement.section, GENERAL)
