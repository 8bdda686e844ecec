"""WordprocessingML for the note: paragraphs and runs as XML, the styles and language a letterhead
may lack, page numbers, and the body streamed into ``word/document.xml`` in a marker's place.

Kept apart from ``word_note`` (what the note says) so the composing and the package can each be
read alone.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import qn

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
LANGUAGE = "da-DK"

# Built-in style ids (locale independent) and the names Word knows them by.
TITLE, SUBTITLE, HEADING1, HEADING2, QUOTE = "Title", "Subtitle", "Heading1", "Heading2", "Quote"
STYLE_NAMES = {
    TITLE: "Title",
    SUBTITLE: "Subtitle",
    HEADING1: "Heading 1",
    HEADING2: "Heading 2",
    QUOTE: "Quote",
}


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    highlight: bool = False


@dataclass
class Para:
    """One paragraph of the note: a style id and its runs; ``\n`` in a run is a line break."""

    runs: list[Run]
    style: str | None = None
    boxed: bool = False

    @classmethod
    def of(cls, text: str, style: str | None = None, *, bold: bool = False) -> Para:
        return cls([Run(text, bold=bold)], style)


def run_xml(run: Run) -> str:
    props = ("<w:b/>" if run.bold else "") + ('<w:highlight w:val="yellow"/>' if run.highlight else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    lines = run.text.split("\n")
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return f"<w:r>{rpr}{body}</w:r>"


BOX = (
    '<w:pBdr><w:top w:val="single" w:sz="12" w:space="4" w:color="C00000"/>'
    '<w:left w:val="single" w:sz="12" w:space="4" w:color="C00000"/>'
    '<w:bottom w:val="single" w:sz="12" w:space="4" w:color="C00000"/>'
    '<w:right w:val="single" w:sz="12" w:space="4" w:color="C00000"/></w:pBdr>'
    '<w:shd w:val="clear" w:color="auto" w:fill="FFF2CC"/>'
)


def para_xml(para: Para) -> str:
    ppr = ""
    if para.style or para.boxed:
        style = f'<w:pStyle w:val="{para.style}"/>' if para.style else ""
        ppr = f"<w:pPr>{style}{BOX if para.boxed else ''}</w:pPr>"
    return f"<w:p>{ppr}{''.join(run_xml(r) for r in para.runs)}</w:p>"


# The paragraph python-docx writes where the body goes; replaced while the file is zipped.
_MARKER = "hoering-note-body-5d1e9c"
_PARAGRAPH_START = re.compile(rb"<w:p[ >]")
_CHUNK = 1 << 20


def save_with_body(doc: Any, target: Path, lead: Sequence[Para], body: IO[str]) -> None:
    """Save ``doc`` to ``target`` with ``lead`` and then ``body`` (paragraph XML) in the marker's place."""
    doc.add_paragraph(_MARKER)
    skeleton = io.BytesIO()
    doc.save(skeleton)
    with zipfile.ZipFile(skeleton) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "word/document.xml":
                out.writestr(item, data)
                continue
            head, tail = split_at_marker(data)
            with out.open(item.filename, "w", force_zip64=True) as document:
                document.write(head)
                document.write("".join(map(para_xml, lead)).encode("utf-8"))
                body.seek(0)
                while chunk := body.read(_CHUNK):
                    document.write(chunk.encode("utf-8"))
                document.write(tail)


def split_at_marker(document: bytes) -> tuple[bytes, bytes]:
    at = document.index(_MARKER.encode())
    start = [m.start() for m in _PARAGRAPH_START.finditer(document, 0, at)][-1]
    end = document.index(b"</w:p>", at) + len(b"</w:p>")
    return document[:start], document[end:]


def ensure_styles(doc: Any) -> None:
    """A letterhead may lack the built-in styles; add those the note uses (Word fills in their look)."""
    present = {s.style_id for s in doc.styles}
    for style_id, name in STYLE_NAMES.items():
        if style_id not in present:
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.element.set(qn("w:styleId"), style_id)
            if style_id.startswith("Heading"):
                # outline level makes the heading show in the navigation pane and the PDF outline
                level = int(style_id[-1]) - 1
                ppr = style.element.get_or_add_pPr()
                ppr.append(parse_xml(f'<w:outlineLvl xmlns:w="{W_NS}" w:val="{level}"/>'))


def set_language(doc: Any) -> None:
    """Danish as the document language, so Word spell-checks and reads it aloud as Danish."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = parse_xml(f'<w:docDefaults xmlns:w="{W_NS}"/>')
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = parse_xml(f'<w:rPrDefault xmlns:w="{W_NS}"/>')
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = parse_xml(f'<w:rPr xmlns:w="{W_NS}"/>')
        rpr_default.append(rpr)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = parse_xml(f'<w:lang xmlns:w="{W_NS}"/>')
        rpr.append(lang)
    lang.set(qn("w:val"), LANGUAGE)
    doc.core_properties.language = LANGUAGE


def page_numbers(doc: Any, label: str) -> None:
    """A PAGE field after ``label`` in the footer, unless the letterhead's footer already numbers its pages."""
    for section in doc.sections:
        footer = section.footer
        footer.is_linked_to_previous = False
        element = footer._element
        if "PAGE" in "".join(element.xpath(".//w:instrText/text() | .//w:fldSimple/@w:instr")):
            continue
        element.append(
            parse_xml(
                f'<w:p xmlns:w="{W_NS}"><w:pPr><w:jc w:val="center"/></w:pPr>'
                f'<w:r><w:t xml:space="preserve">{escape(label)}</w:t></w:r>'
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
                '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
            )
        )
