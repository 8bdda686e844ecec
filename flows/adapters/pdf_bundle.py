"""The combined PDF of all responses ("samlede høringssvar"), the committee's attachment.

Front page (title, period, count), a table of contents, then every response in order of receipt
with its party, time of receipt, text and list of attachments, from the stored texts.
Uses DejaVu Sans when the Debian font package is installed (all of Unicode the texts hold);
otherwise fpdf2's core Helvetica with text reduced to Latin-1, so the bundle is always written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF

from flows.adapters.files import write_atomically
from flows.core.assembly import Assembly, ResponseLine, in_receipt_order
from flows.core.danish import period_text, responses_phrase, short_datetime
from flows.core.quality import clean_text

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
FAMILY = "DejaVu"


class _Bundle(FPDF):
    unicode_font = False

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(self.font_family, "", 8)
        self.cell(0, 10, f"Side {self.page_no()}", align="C")


def _new_pdf(font_dir: Path, *, latin1: bool = False) -> _Bundle:
    """A new PDF in DejaVu when it is installed; ``latin1``: text that Helvetica shows whole."""
    pdf = _Bundle(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    if not latin1 and regular.exists() and bold.exists():
        pdf.add_font(FAMILY, "", str(regular))
        pdf.add_font(FAMILY, "B", str(bold))
        pdf.unicode_font = True
        pdf.set_font(FAMILY, "", 10)
    else:
        pdf.set_font("Helvetica", "", 10)
    return pdf


def _text(pdf: _Bundle, text: str) -> str:
    """Text the chosen font can show: all of it with DejaVu, Latin-1 with the core fonts."""
    text = clean_text(text).replace("\t", "    ")
    if pdf.unicode_font:
        return text
    text = text.replace("”", '"').replace("“", '"').replace("–", "-").replace("…", "...")
    return text.encode("latin-1", "replace").decode("latin-1")


def _toc(pdf: Any, outline: list[Any]) -> None:
    """The table of contents: one line per response with its page."""
    # fpdf2 renders the placeholder at the end, with the cursor where the last page left it (the
    # footer's cell ends at the right margin): without this the heading is drawn off the page
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.set_font(pdf.font_family, "B", 14)
    pdf.cell(0, 10, "Indhold", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_family, "", 10)
    for section in outline:
        link = pdf.add_link(page=section.page_number)
        pdf.cell(170, 6, _text(pdf, section.name)[:90], link=link)
        pdf.cell(0, 6, str(section.page_number), align="R", new_x="LMARGIN", new_y="NEXT", link=link)
    # fpdf2 wants exactly the reserved number of pages; the estimate errs high, so pad with blanks.
    placeholder = pdf.toc_placeholder
    while pdf.page < placeholder.start_page + placeholder.pages - 1:
        pdf.add_page()


def _front_page(pdf: _Bundle, assembly: Assembly, edition: str = "") -> None:
    rnd = assembly.round
    pdf.add_page()
    pdf.set_font(pdf.font_family, "B", 20)
    pdf.multi_cell(0, 10, _text(pdf, "Samlede høringssvar" + edition), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_family, "B", 14)
    pdf.multi_cell(0, 8, _text(pdf, rnd.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(pdf.font_family, "", 11)
    lines = [
        f"{rnd.administration}",
        f"Høringsperiode: {period_text(rnd.opens, rnd.deadline)}",
        f"Rettidige høringssvar: {responses_phrase(len(assembly.on_time))} ({len(assembly.on_time)})",
        f"Modtaget efter fristen: {len(assembly.late)}",
    ]
    for line in lines:
        pdf.multi_cell(0, 7, _text(pdf, line), new_x="LMARGIN", new_y="NEXT")


def _response(pdf: _Bundle, r: ResponseLine, texts: Sequence[tuple[str, str]] | None = None) -> None:
    title = f"{r.number}. {r.party}" + (" (modtaget efter fristen)" if r.late else "")
    pdf.start_section(_text(pdf, title))
    pdf.set_font(pdf.font_family, "B", 12)
    pdf.multi_cell(0, 7, _text(pdf, title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_family, "", 9)
    parts = (f"Modtaget {short_datetime(r.received_at)}", str(r.channel), r.sender, f"ref. {r.reference}")
    meta = " · ".join(p for p in parts if p)
    pdf.multi_cell(0, 5, _text(pdf, meta), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(pdf.font_family, "", 10)
    for line in _wrap(pdf, _text(pdf, r.text) or "(tomt svar)", pdf.epw - 2 * pdf.c_margin):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    if texts is not None:  # the public bundle: each attachment's text, never the file itself
        _attachment_texts(pdf, texts)
    elif r.attachments:
        pdf.ln(2)
        pdf.set_font(pdf.font_family, "B", 10)
        pdf.cell(0, 6, "Bilag:", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.font_family, "", 10)
        for name in r.attachments:
            pdf.multi_cell(0, 5, _text(pdf, f"• {name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _attachment_texts(pdf: _Bundle, texts: Sequence[tuple[str, str]]) -> None:
    for name, text in texts:
        pdf.ln(2)
        pdf.set_font(pdf.font_family, "B", 10)
        pdf.multi_cell(0, 6, _text(pdf, f"Bilag: {name}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(pdf.font_family, "", 10)
        for line in _wrap(pdf, _text(pdf, text) or "(ingen tekst)", pdf.epw - 2 * pdf.c_margin):
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")


def _wrap(pdf: _Bundle, text: str, width: float) -> list[str]:
    """Greedy word wrap with cached character widths.

    fpdf2's multi_cell re-measures the growing line for every character (about 4 ms per
    response); measuring each distinct character once keeps a 10,000-response bundle linear.
    """
    cache: dict[str, float] = {}

    def measure(word: str) -> float:
        total = 0.0
        for ch in word:
            w = cache.get(ch)
            if w is None:
                w = cache[ch] = pdf.get_string_width(ch)
            total += w
        return total

    space = measure(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for word in paragraph.split(" "):
            w = measure(word)
            while w > width:  # a word wider than the page (a URL): break it by characters
                cut = _fit(word, width, measure)
                if line:
                    lines.append(line)
                lines.append(word[:cut])
                line, used, word = "", 0.0, word[cut:]
                w = measure(word)
            if line and used + space + w > width:
                lines.append(line)
                line, used = word, w
            else:
                line, used = (f"{line} {word}", used + space + w) if line else (word, w)
        lines.append(line)
    return lines


def _fit(word: str, width: float, measure: Callable[[str], float]) -> int:
    used = 0.0
    for i, ch in enumerate(word):
        used += measure(ch)
        if used > width:
            return max(1, i)
    return len(word)


def _toc_pages(n_responses: int) -> int:
    # The placeholder must reserve the pages the table will fill; an A4 page holds 43-44 lines of
    # 6 mm, so 40 per page never reserves too few (too many are padded in _toc).
    return max(1, -(-(n_responses + 2) // 40))


def write_bundle(
    assembly: Assembly,
    path: Path,
    *,
    font_dir: Path = DEJAVU_DIR,
    attachment_texts: Mapping[int, Sequence[tuple[str, str]]] | None = None,
    edition: str = "",
) -> None:
    """Write ``ROUND_ID-samlede-hoeringssvar.pdf`` to ``path`` (atomically).

    With ``attachment_texts`` (response number → name and text), each response shows the text
    of its attachments instead of their names (the public bundle); ``edition`` follows the title.
    """
    pdf = _new_pdf(font_dir)
    pdf.set_title(_text(pdf, f"Samlede høringssvar{edition} – {assembly.round.title}"))
    pdf.set_lang("da-DK")
    _front_page(pdf, assembly, edition)
    pdf.add_page()
    pdf.insert_toc_placeholder(_toc, pages=_toc_pages(len(assembly.responses)))
    for r in in_receipt_order(assembly.responses):
        _response(pdf, r, None if attachment_texts is None else attachment_texts.get(r.number, ()))
    write_atomically(path, lambda tmp: pdf.output(str(tmp)))
