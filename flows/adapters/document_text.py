"""Text of the document formats parties attach: Word (.docx), PDF, plain text and HTML files.

It exists so that ``attachments`` only decides which reader gets a file. Each reader here is
called on bytes that already passed the hostile-file guard (``file_guard``); a file it cannot
read raises ``Refused`` with the Danish reason, and every text is capped.
"""

from __future__ import annotations

import io

from flows.adapters.charset import decode_text
from flows.adapters.file_guard import MAX_TEXT_CHARS, PROBLEM_ENCRYPTED, Refused, cap
from flows.adapters.html_text import html_to_text

MAX_PDF_PAGES = 200


def docx_text(data: bytes) -> str:
    """Paragraphs, then the text of table cells (each merged cell once)."""
    import docx

    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                # merged cells are repeated by python-docx; keep each underlying cell once
                if id(cell._tc) not in seen and cell.text.strip():
                    seen.add(id(cell._tc))
                    parts.append(cell.text)
    return cap("\n".join(parts))


def pdf_text(data: bytes) -> str:
    """The text of the first ``MAX_PDF_PAGES`` pages; a PDF we cannot decrypt is refused."""
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")  # many "protected" PDFs only restrict printing and open with ""
        except Exception as exc:
            raise Refused(PROBLEM_ENCRYPTED) from exc
    try:
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except FileNotDecryptedError as exc:
        raise Refused(PROBLEM_ENCRYPTED) from exc
    return cap("\n".join(p for p in pages if p.strip()))


def plain_text(data: bytes) -> str:
    """A .txt/.csv file through the one charset chain; only the bytes a capped text can use."""
    return cap(decode_text(data[: MAX_TEXT_CHARS * 2]))


def html_file_text(data: bytes) -> str:
    """An attached .html file: the charset chain, then the same HTML-to-text as mail bodies."""
    return cap(html_to_text(decode_text(data[: MAX_TEXT_CHARS * 2])))
