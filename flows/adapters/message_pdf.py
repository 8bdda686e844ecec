"""A PDF rendition of one received message, for the case file: headers, body, attachments.

Records systems keep a PDF beside the original ``.eml`` (an archival format a person can open).
The headers are shown as a person reads them (decoded, Copenhagen time); the body is the text
hoering parsed and stored. The PDF's dates are fixed to the message's receipt, so the same
message gives the same bytes on every export.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path

from flows.adapters.files import write_atomically
from flows.adapters.pdf_bundle import DEJAVU_DIR, _new_pdf, _text, _wrap
from flows.core.danish import short_datetime
from flows.core.quality import clean_text

SHOWN_HEADERS = (("From", "Fra"), ("To", "Til"), ("Cc", "Cc"), ("Date", "Dato"), ("Subject", "Emne"))


@dataclass(frozen=True)
class MessageView:
    title: str
    headers: tuple[tuple[str, str], ...]
    received: str
    body: str
    attachments: tuple[str, ...]


def read_headers(data: bytes) -> tuple[tuple[str, str], ...]:
    """The headers a person reads, decoded; a header that will not decode is shown as it is."""
    parsed = BytesHeaderParser(policy=default).parsebytes(data)
    shown = []
    for name, label in SHOWN_HEADERS:
        try:
            value = parsed.get(name)
        except (ValueError, IndexError, TypeError):  # a header the policy cannot parse
            value = parsed.get_all(name, failobj=[""])[0] if name in parsed else None
        if value is None:
            continue
        text = " ".join(str(value).split())
        if name == "Date":
            with contextlib.suppress(TypeError, ValueError, IndexError):
                text = short_datetime(parsedate_to_datetime(text))
        shown.append((label, text))
    return tuple(shown)


def _all_latin1(view: MessageView) -> bool:
    texts = [view.title, view.body, view.received, *view.attachments]
    texts += [f"{label}: {value}" for label, value in view.headers]
    return all(ord(c) < 256 for text in texts for c in clean_text(text))


def write_message_pdf(
    view: MessageView, path: Path, created: datetime, *, font_dir: Path = DEJAVU_DIR
) -> None:
    # A fresh PDF each time. Parsing and subsetting DejaVu is most of its ~0.5 s (a deep copy of
    # a loaded one shares fontTools state, and the second message's subset then misses glyphs),
    # so a message whose text is all Latin-1 (Danish is) is set in the built-in Helvetica.
    latin1 = _all_latin1(view)
    pdf = _new_pdf(font_dir, latin1=latin1)
    pdf.set_creation_date(created)
    pdf.set_title(_text(pdf, view.title))
    pdf.set_lang("da-DK")
    pdf.add_page()
    pdf.set_font(pdf.font_family, "B", 13)
    pdf.multi_cell(0, 7, _text(pdf, view.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(pdf.font_family, "", 9)
    for label, value in (*view.headers, ("Modtaget", view.received)):
        pdf.multi_cell(0, 5, _text(pdf, f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(pdf.font_family, "", 10)
    for line in _wrap(pdf, _text(pdf, view.body) or "(ingen tekst)", pdf.epw - 2 * pdf.c_margin):
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(pdf.font_family, "B", 10)
    pdf.cell(0, 6, "Bilag:" if view.attachments else "Bilag: ingen", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(pdf.font_family, "", 10)
    for name in view.attachments:
        pdf.multi_cell(0, 5, _text(pdf, f"{'-' if latin1 else '•'} {name}"), new_x="LMARGIN", new_y="NEXT")
    write_atomically(path, lambda tmp: pdf.output(str(tmp)))
