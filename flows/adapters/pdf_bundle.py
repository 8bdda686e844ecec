"""The combined PDF of all responses ("samlede høringssvar"), the committee's attachment.

Front page (title, period, count), a table of contents, then every response in order of receipt
with its party, time of receipt, text and list of attachments, from the stored texts.
A round with more counted responses than a volume holds (``flows.core.outputs.BUNDLE_VOLUME``) gets
volumes instead of one file, each a whole PDF with its own front page and contents: fpdf2 keeps
every page of a document in memory until it is saved, about 10 KB per response.
Uses DejaVu Sans when the Debian font package is installed (all of Unicode the texts hold);
otherwise fpdf2's core Helvetica with text reduced to Latin-1, so the bundle is always written.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from fpdf import FPDF

from flows.adapters.files import write_atomically
from flows.core import outputs
from flows.core.assembly import Assembly, ResponseLine, in_receipt_order
from flows.core.danish import period_text, responses_phrase, short_datetime, thousands
from flows.core.outputs import bundle_paths, volume_number
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


@dataclass(frozen=True, slots=True)
class Totals:
    """The round's counts, which every volume's front page shows whole."""

    on_time: int
    late: int


@dataclass(frozen=True, slots=True)
class Volume:
    """Which part of the bundle one PDF is, and the numbers of the responses it holds."""

    part: int
    parts: int
    first: int
    last: int

    def heading(self) -> str:
        """ "Del 2 af 7: høringssvar nr. 5.001–10.000"."""
        held = (
            thousands(self.first)
            if self.first == self.last
            else f"{thousands(self.first)}–{thousands(self.last)}"
        )
        return f"Del {self.part} af {self.parts}: høringssvar nr. {held}"


def _front_page(
    pdf: _Bundle, assembly: Assembly, totals: Totals, edition: str, volume: Volume | None
) -> None:
    rnd = assembly.round
    pdf.add_page()
    pdf.set_font(pdf.font_family, "B", 20)
    pdf.multi_cell(0, 10, _text(pdf, "Samlede høringssvar" + edition), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_family, "B", 14)
    pdf.multi_cell(0, 8, _text(pdf, rnd.title), new_x="LMARGIN", new_y="NEXT")
    if volume is not None:
        pdf.ln(2)
        pdf.set_font(pdf.font_family, "B", 12)
        pdf.multi_cell(0, 7, _text(pdf, volume.heading()), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(pdf.font_family, "", 11)
    lines = [
        f"{rnd.administration}",
        f"Høringsperiode: {period_text(rnd.opens, rnd.deadline)}",
        f"Rettidige høringssvar: {responses_phrase(totals.on_time)} ({totals.on_time})",
        f"Modtaget efter fristen: {totals.late}",
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
    per_volume: int | None = None,
) -> tuple[Path, ...]:
    """Write ``ROUND_ID-samlede-hoeringssvar.pdf`` to ``path`` (atomically), or its volumes; the files.

    Up to ``per_volume`` counted responses (default ``outputs.BUNDLE_VOLUME``, read at the call)
    give the one file ``path``; more give the volumes ``outputs.bundle_paths`` names, each written
    and saved before the next begins, so one volume's pages at most are in memory. The responses
    are walked once, in receipt order.
    Volumes an earlier assemble left are removed first (an interrupted run leaves fewer, never
    two runs' volumes side by side), and the single file too when the bundle is now in volumes.

    With ``attachment_texts`` (response number → name and text), each response shows the text
    of its attachments instead of their names (the public bundle); ``edition`` follows the title.
    """
    per_volume = per_volume or outputs.BUNDLE_VOLUME
    targets = bundle_paths(path, len(assembly.responses), per_volume)
    _remove(bundle_files(path), keep=targets[0] if len(targets) == 1 else None)
    totals = Totals(len(assembly.on_time), len(assembly.late))
    walk = iter(in_receipt_order(assembly.responses))
    for part, target in enumerate(targets, start=1):
        lines = list(islice(walk, per_volume))  # this volume's lines only: the walk goes on from here
        volume = None if len(targets) == 1 else Volume(part, len(targets), lines[0].number, lines[-1].number)
        _write_volume(assembly, target, lines, totals, volume, font_dir, attachment_texts, edition)
        # fpdf2's document is a web of reference cycles: collected now, or the last volume's pages
        # stay until the collector's next full pass and two volumes are in memory at once
        gc.collect()
    return targets


def _write_volume(
    assembly: Assembly,
    path: Path,
    lines: Sequence[ResponseLine],
    totals: Totals,
    volume: Volume | None,
    font_dir: Path,
    attachment_texts: Mapping[int, Sequence[tuple[str, str]]] | None,
    edition: str,
) -> None:
    pdf = _new_pdf(font_dir)
    part = "" if volume is None else f", del {volume.part} af {volume.parts}"
    pdf.set_title(_text(pdf, f"Samlede høringssvar{edition} – {assembly.round.title}{part}"))
    pdf.set_lang("da-DK")
    _front_page(pdf, assembly, totals, edition, volume)
    pdf.add_page()
    pdf.insert_toc_placeholder(_toc, pages=_toc_pages(len(lines)))
    for r in lines:
        _response(pdf, r, None if attachment_texts is None else attachment_texts.get(r.number, ()))
    write_atomically(path, lambda tmp: pdf.output(str(tmp)))


def bundle_files(path: Path) -> tuple[Path, ...]:
    """The bundle's files on disk now: the single file ``path``, or its volumes in order."""
    if not path.parent.is_dir():
        return ()
    volumes = sorted((n, p) for p in path.parent.iterdir() if (n := volume_number(path, p)) is not None)
    return ((path,) if path.is_file() else ()) + tuple(p for _, p in volumes)


def remove_bundle(path: Path) -> None:
    """Remove the bundle at ``path`` and every volume of it (a refused public version)."""
    _remove(bundle_files(path), keep=None)


def _remove(files: Iterable[Path], keep: Path | None) -> None:
    for old in files:
        if old != keep:
            old.unlink(missing_ok=True)
