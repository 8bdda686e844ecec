"""Minimal, byte-deterministic Office and PDF files for the corpus.

Written by hand (a few XML parts in a zip with a fixed timestamp) rather than through openpyxl,
python-docx or fpdf2: those cost milliseconds per file and stamp the current time into it, and
the corpus must be both fast to build and identical for the same seed.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

TEMPLATE_SHEET = "Høringssvar"
META_SHEET = "_hoering"
HEADER = ("Afsnit / side", "Bemærkning", "Forslag til ændring")
HEADER_ROW = 5
VARIANTS = ("ok", "renamed_column", "merged_cells", "extra_sheet")
_STAMP = (2024, 10, 1, 12, 0, 0)

_XLSX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="{target}"/></Relationships>'
)
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="1"><xf xfId="0"/></cellXfs>'
    "</styleSheet>"
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _zip(parts: Sequence[tuple[str, str | bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, content in parts:
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content.encode() if isinstance(content, str) else content)
    return out.getvalue()


class _Strings:
    """The shared-string table Excel writes when a user saves, in first-use order."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.uses = 0

    def cell(self, ref: str, value: str | int) -> str:
        if isinstance(value, int):
            # A section typed as a bare number is stored as a number (a broken-template case).
            return f'<c r="{ref}"><v>{value}</v></c>'
        self.uses += 1
        number = self.index.setdefault(value, len(self.index))
        return f'<c r="{ref}" t="s"><v>{number}</v></c>'

    def xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in self.index)
        return (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{_MAIN}" '
            f'count="{self.uses}" uniqueCount="{len(self.index)}">{items}</sst>'
        )


def _sheet(rows: Sequence[tuple[int, Sequence[str | int]]], strings: _Strings, extra: str = "") -> str:
    body = []
    for number, values in rows:
        cells = "".join(strings.cell(f"{'ABCDEFGH'[i]}{number}", v) for i, v in enumerate(values) if v != "")
        body.append(f'<row r="{number}">{cells}</row>')
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}">'
        f'<cols><col min="1" max="1" width="18"/><col min="2" max="3" width="60"/></cols>'
        f"<sheetData>{''.join(body)}</sheetData>{extra}</worksheet>"
    )


def response_template(
    round_id: str,
    title: str,
    party: str,
    remarks: Sequence[tuple[str | int, str, str]],
    variant: str = "ok",
) -> bytes:
    """The response template as a party would send it back, filled with ``remarks`` rows.

    Layout (until flows.adapters.response_template lands): sheet "Høringssvar", title rows,
    the header at row 5, one remark per row below; hidden sheet "_hoering" with A1 = round id
    and A2 = party name. ``variant`` breaks it the ways real senders do.
    """
    strings = _Strings()
    header = list(HEADER)
    if variant == "renamed_column":
        header[1] = "Kommentar"
    rows: list[tuple[int, Sequence[str | int]]] = [
        (1, [f"Høringssvar: {title}"]),
        (2, [f"Høringspart: {party}"]),
        (3, ["Skriv én bemærkning pr. række. Tilføj gerne flere rækker."]),
        (HEADER_ROW, header),
    ]
    rows += [(HEADER_ROW + i, list(r)) for i, r in enumerate(remarks, start=1)]
    merged = ""
    if variant == "merged_cells" and remarks:
        merged = f'<mergeCells count="1"><mergeCell ref="A{HEADER_ROW + 1}:A{HEADER_ROW + len(remarks)}"/></mergeCells>'
    sheets = [(TEMPLATE_SHEET, _sheet(rows, strings, merged), "visible")]
    sheets.append((META_SHEET, _sheet([(1, [round_id]), (2, [party])], strings), "hidden"))
    if variant == "extra_sheet":
        # Put first, so a reader that takes "the first sheet" reads the wrong one.
        sheets.insert(
            0, ("Ark1", _sheet([(1, ["Noter til os selv"]), (2, ["Husk frist"])], strings), "visible")
        )
    return _workbook(sheets, strings)


def _workbook(sheets: Sequence[tuple[str, str, str]], strings: _Strings) -> bytes:
    hidden = ' state="hidden"'
    entries = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}"{hidden if state == "hidden" else ""} r:id="rId{n}"/>'
        for n, (name, _xml, state) in enumerate(sheets, start=1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{_MAIN}" '
        f'xmlns:r="{_R}"><sheets>{entries}</sheets></workbook>'
    )
    count = len(sheets)
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{_REL}worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    rels += f'<Relationship Id="rId{count + 1}" Type="{_REL}sharedStrings" Target="sharedStrings.xml"/>'
    rels += f'<Relationship Id="rId{count + 2}" Type="{_REL}styles" Target="styles.xml"/>'
    parts: list[tuple[str, str | bytes]] = [
        (
            "[Content_Types].xml",
            _XLSX_TYPES.format(sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, count + 1))),
        ),
        ("_rels/.rels", _ROOT_RELS.format(target="xl/workbook.xml")),
        ("xl/workbook.xml", workbook),
        (
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            "</Relationships>",
        ),
    ]
    parts += [(f"xl/worksheets/sheet{n}.xml", xml) for n, (_name, xml, _s) in enumerate(sheets, start=1)]
    parts += [("xl/sharedStrings.xml", strings.xml()), ("xl/styles.xml", _STYLES)]
    return _zip(parts)


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def docx_letter(paragraphs: Sequence[str]) -> bytes:
    """A letter as a .docx: one w:p per paragraph, nothing else."""
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs)
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{_W}">'
        f"<w:body>{body}<w:sectPr/></w:body></w:document>"
    )
    return _zip(
        [
            ("[Content_Types].xml", _DOCX_TYPES),
            ("_rels/.rels", _ROOT_RELS.format(target="word/document.xml")),
            ("word/document.xml", document),
        ]
    )


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_document(lines: Sequence[str]) -> bytes:
    """A one-page PDF with Helvetica text (WinAnsi, so æøå survive extraction)."""
    stream = b"BT /F1 10 Tf 50 800 Td 13 TL " + b" ".join(
        _pdf_string(line[:110]) + b" '" for line in lines[:58]
    )
    stream += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe6\xf8\xe5\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def wrap_lines(paragraphs: Sequence[str], width: int = 95) -> list[str]:
    """Greedy word wrap for the PDF, with an empty line between paragraphs."""
    lines: list[str] = []
    for paragraph in paragraphs:
        line = ""
        for word in paragraph.split():
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.extend([line, ""])
    return lines
