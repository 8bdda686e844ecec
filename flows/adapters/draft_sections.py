"""Read the sections of a round's documents: .docx headings and numbered paragraphs, .pdf outline
or numbered heading lines, each with its page where the document has pages.

A document is read from the round file's folder when the round is opened. A file we cannot read
(damaged, encrypted, another format) gives no sections of its own and a reason, never a crash:
a draft without recognisable sections becomes one section, the whole draft, and the round works.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pypdf
from docx.oxml.ns import qn

from flows.core.sections import Section, heading_parts, in_sequence, level_of, whole_draft

log = logging.getLogger(__name__)

MAX_TEXT = 200_000  # characters kept per section: enough to place remarks by their words
_HEADING_STYLE = re.compile(r"^(?:heading|overskrift)\s*(\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Heading:
    """A heading found in a document, before its text is gathered."""

    number: str
    title: str
    level: int
    page: int | None
    styled: bool  # from a heading style, an outline level or the PDF outline


@dataclass
class DraftSections:
    """The sections of all the round's documents, in order, and why a document gave none."""

    sections: list[Section] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_sections(paths: Sequence[Path]) -> DraftSections:
    """The sections of every document, numbered in order over them all (at least one section)."""
    result = DraftSections()
    whole: list[tuple[str, str]] = []
    for path in paths:
        try:
            found, text = _read_one(path)
        except Exception as exc:  # a hostile or damaged file: a reason, never a crash
            log.warning("could not read sections of a round document (%s)", type(exc).__name__)
            result.problems.append(f"{path.name}: afsnittene kunne ikke læses ({type(exc).__name__})")
            continue
        if found:
            for s in found:
                result.sections.append(
                    Section(len(result.sections) + 1, s.number, s.title, s.level, s.page, s.text, path.name)
                )
        elif text is not None:
            whole.append((path.name, text))
    if not result.sections:
        name, text = whole[0] if whole else ((paths[0].name if paths else "Udkastet"), "")
        result.sections.append(whole_draft(name, text[:MAX_TEXT]))
    return result


def _read_one(path: Path) -> tuple[list[Section], str | None]:
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _docx_sections(path)
    if suffix == ".pdf":
        return _pdf_sections(path)
    return [], None


# --------------------------------------------------------------------------------------- .docx


def _docx_sections(path: Path) -> tuple[list[Section], str]:
    document = docx.Document(str(path))
    rendered = any(True for _ in document.element.body.iter(qn("w:lastRenderedPageBreak")))
    page = 1
    blocks: list[tuple[_Heading | None, str]] = []
    counters: list[int] = []
    for paragraph in document.paragraphs:
        element = paragraph._p
        if _page_break_before(paragraph):
            page += 1
        text = paragraph.text.strip()
        heading = _docx_heading(paragraph, text, page, counters) if text else None
        blocks.append((heading, text))
        page += _page_breaks_inside(element, rendered=rendered)
    has_pages = page > 1
    headings = _keep_outline([h for h, _ in blocks if h is not None])
    sections = _gather(blocks, headings, has_pages)
    return sections, "\n\n".join(t for _, t in blocks if t)


def _page_break_before(paragraph: Any) -> bool:
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.find(qn("w:pageBreakBefore")) is not None:
        return True
    style = paragraph.style
    while style is not None:
        spr = style.element.pPr
        if spr is not None and spr.find(qn("w:pageBreakBefore")) is not None:
            return True
        style = style.base_style
    return False


def _page_breaks_inside(element: Any, *, rendered: bool) -> int:
    """Page breaks in one paragraph: those Word rendered when it saved, else the explicit ones."""
    if rendered:
        return sum(1 for _ in element.iter(qn("w:lastRenderedPageBreak")))
    return sum(1 for br in element.iter(qn("w:br")) if br.get(qn("w:type")) == "page")


def _outline_level(paragraph: Any) -> int | None:
    """The heading level from the paragraph's outline level or its style (Heading 1, Overskrift 2)."""
    for ppr in (paragraph._p.pPr, *(s.element.pPr for s in _styles(paragraph))):
        if ppr is not None:
            level = ppr.find(qn("w:outlineLvl"))
            if level is not None and (value := level.get(qn("w:val"))) and value.isdigit() and int(value) < 9:
                return int(value) + 1
    for style in _styles(paragraph):
        if m := _HEADING_STYLE.match(style.name or ""):
            return int(m.group(1))
    return None


def _styles(paragraph: Any) -> Iterator[Any]:
    style = paragraph.style
    while style is not None:
        yield style
        style = style.base_style


def _auto_numbered(paragraph: Any) -> bool:
    ppr = paragraph._p.pPr
    if ppr is not None and ppr.find(qn("w:numPr")) is not None:
        return True
    return any(
        s.element.pPr is not None and s.element.pPr.find(qn("w:numPr")) is not None
        for s in _styles(paragraph)
    )


def _docx_heading(paragraph: Any, text: str, page: int, counters: list[int]) -> _Heading | None:
    level = _outline_level(paragraph)
    parts = heading_parts(text)
    if level is not None and len(text) <= 200:
        if parts:
            return _Heading(parts[0], parts[1] or text, level_of(parts[0]), page, styled=True)
        number = _count(counters, level) if _auto_numbered(paragraph) else ""
        return _Heading(number, text, level, page, styled=True)
    if parts:
        return _Heading(parts[0], parts[1], level_of(parts[0]), page, styled=False)
    return None


def _count(counters: list[int], level: int) -> str:
    """Word's automatic outline number for a heading at ``level`` (1.; 1.1; 1.2; 2.)."""
    del counters[level:]
    while len(counters) < level:
        counters.append(0)
    counters[level - 1] += 1
    return ".".join(str(n) for n in counters)


def _keep_outline(headings: list[_Heading]) -> list[_Heading]:
    """Styled headings when there are any (numbered plain paragraphs are then lists), plus "§";
    otherwise the numbered paragraphs that continue the outline."""
    if any(h.styled for h in headings):
        return [h for h in headings if h.styled or h.number.startswith("§")]
    keep = in_sequence(h.number for h in headings)
    return [h for h, ok in zip(headings, keep, strict=True) if ok]


def _gather(
    blocks: list[tuple[_Heading | None, str]], headings: list[_Heading], has_pages: bool
) -> list[Section]:
    wanted = {id(h) for h in headings}
    sections: list[Section] = []
    current: _Heading | None = None
    texts: list[str] = []

    def flush() -> None:
        if current is not None:
            text = "\n\n".join(texts)[:MAX_TEXT]
            page = current.page if has_pages else None
            sections.append(
                Section(len(sections) + 1, current.number, current.title, current.level, page, text)
            )

    for heading, text in blocks:
        if heading is not None and id(heading) in wanted:
            flush()
            current, texts = heading, []
            if heading.number.startswith("§") and not heading.title:
                texts.append(text)  # "§ 4. Kommunalbestyrelsen …": the provision is the text
        elif text:
            texts.append(text)
    flush()
    return sections


# --------------------------------------------------------------------------------------- .pdf


@dataclass(frozen=True)
class _Line:
    page: int
    text: str
    size: float
    x: float
    bold: bool


def _pdf_sections(path: Path) -> tuple[list[Section], str]:
    reader = pypdf.PdfReader(str(path))
    if reader.is_encrypted:
        reader.decrypt("")
    lines = list(_pdf_lines(reader))
    text = "\n".join(line.text for line in lines)
    headings = _outline_headings(reader)
    if not headings:
        headings = _font_headings(lines)
    if not headings:
        return [], text
    return _pdf_gather(lines, headings), text


def _outline_headings(reader: pypdf.PdfReader) -> list[_Heading]:
    found: list[_Heading] = []

    def walk(items: Any, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
                continue
            title = " ".join(str(item.title or "").split())
            if not title:
                continue
            page: int | None = None
            try:
                index = reader.get_destination_page_number(item)
                page = index + 1 if index is not None and index >= 0 else None
            except Exception:  # an outline entry pointing nowhere: kept without a page
                page = None
            parts = heading_parts(title)
            number, name = (parts[0], parts[1] or title) if parts else ("", title)
            found.append(_Heading(number, name, depth, page, styled=True))

    walk(reader.outline, 1)
    return found


def _pdf_lines(reader: pypdf.PdfReader) -> Iterator[_Line]:
    """The text lines of every page with the font size and left edge of their first piece."""
    for number, page in enumerate(reader.pages, start=1):
        pieces: list[tuple[float, float, float, str, bool]] = []

        def visit(text: str, cm: Any, tm: Any, font: Any, size: float, pieces: list[Any] = pieces) -> None:
            if not text.strip():
                return
            scale = abs(float(tm[3]) * float(cm[3])) or 1.0
            x = float(tm[4]) * float(cm[0]) + float(cm[4])
            y = float(tm[5]) * float(cm[3]) + float(cm[5])
            name = str(font.get("/BaseFont", "")) if font else ""
            pieces.append((y, x, float(size) * scale, text, "bold" in name.lower()))

        page.extract_text(visitor_text=visit)
        yield from _join_lines(number, pieces)


def _join_lines(page: int, pieces: list[tuple[float, float, float, str, bool]]) -> Iterator[_Line]:
    rows: dict[int, list[tuple[float, float, float, str, bool]]] = {}
    for piece in pieces:
        rows.setdefault(round(piece[0]), []).append(piece)
    for y in sorted(rows, reverse=True):  # PDF y grows upwards: top of the page first
        parts = sorted(rows[y], key=lambda p: p[1])
        text = " ".join(" ".join(p[3] for p in parts).split())
        if text:
            yield _Line(page, text, max(p[2] for p in parts), parts[0][1], any(p[4] for p in parts))


def _font_headings(lines: list[_Line]) -> list[_Heading]:
    """Numbered lines set larger or bolder than the body text, at the left margin."""
    if not lines:
        return []
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size, 1)] += len(line.text)
    body = sizes.most_common(1)[0][0]
    left = min(line.x for line in lines)
    candidates = []
    for line in lines:
        parts = heading_parts(line.text)
        if parts is None or line.x > left + 36:
            continue
        if line.size >= body * 1.1 or line.bold or parts[0].startswith("§"):
            candidates.append(_Heading(parts[0], parts[1], level_of(parts[0]), line.page, styled=False))
    keep = in_sequence(h.number for h in candidates)
    return [h for h, ok in zip(candidates, keep, strict=True) if ok]


def _pdf_gather(lines: list[_Line], headings: list[_Heading]) -> list[Section]:
    """Each heading's text: the lines from its heading line (or its page) to the next heading."""
    starts: list[int] = []
    cursor = 0
    for heading in headings:
        at = _find_line(lines, heading, cursor)
        starts.append(at)
        cursor = at
    sections = []
    for i, heading in enumerate(headings):
        start = starts[i]
        end = starts[i + 1] if i + 1 < len(headings) else len(lines)
        body = (
            lines[start + 1 : end]
            if start < len(lines) and _is_heading_line(lines[start], heading)
            else lines[start:end]
        )
        text = "\n".join(line.text for line in body)[:MAX_TEXT]
        sections.append(Section(i + 1, heading.number, heading.title, heading.level, heading.page, text))
    return sections


def _is_heading_line(line: _Line, heading: _Heading) -> bool:
    return _squash(heading.title) in _squash(line.text)


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _find_line(lines: list[_Line], heading: _Heading, cursor: int) -> int:
    """The index of the heading's own line at or after ``cursor``; else its page's first line."""
    for i in range(cursor, len(lines)):
        if (heading.page is None or lines[i].page == heading.page) and _is_heading_line(lines[i], heading):
            return i
    for i in range(cursor, len(lines)):
        if heading.page is not None and lines[i].page >= heading.page:
            return i
    return cursor
