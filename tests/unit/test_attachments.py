"""inspect_attachment: names, sniffing, text extraction and the hostile-file guards."""

from __future__ import annotations

import io
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from flows.adapters import file_guard, file_sandbox
from flows.adapters.attachments import inspect_attachment
from flows.adapters.file_guard import (
    PROBLEM_DTD,
    PROBLEM_ENCRYPTED,
    PROBLEM_MACROS,
    PROBLEM_NESTED,
    PROBLEM_TOO_BIG,
    sanitise_name,
)
from flows.adapters.response_template import build_template
from flows.core.message import ParsedAttachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    + b"]>"
)
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'


def _peak_rss_mb(name: str, ctype: str, data: bytes, tmp_path: Path) -> float:
    """Peak RSS of a fresh process inspecting the file: the suite's own high-water mark is not it.

    VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec from the (large) suite.
    """
    blob = tmp_path / "input.bin"
    blob.write_bytes(data)
    code = (
        "import re; from pathlib import Path; "
        "from flows.adapters.attachments import inspect_attachment; "
        f"inspect_attachment({name!r}, {ctype!r}, Path({str(blob)!r}).read_bytes()); "
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1)) / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return float(out.stdout.strip().splitlines()[-1])


def _workbook_bytes() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Hej"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_paragraph("Vi har følgende bemærkninger til udkastet.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Afsnit 3"
    table.cell(0, 1).text = "Tabellen skal opdateres"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _rewrite(data: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a ZIP with some parts replaced and some added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info)))
        for name, body in (add or {}).items():
            zout.writestr(name, body)
    return out.getvalue()


def _inspect(name: str, ctype: str, data: bytes) -> ParsedAttachment:
    return inspect_attachment(name, ctype, data)


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/cron.d/x.xlsx", "x.xlsx"),
        ("..\\..\\x.docx", "x.docx"),
        ("con.xlsx", "con.xlsx"),
        ("svar\x00.xlsx", "svar.xlsx"),
        ("a\x1b[31mb.pdf", "a[31mb.pdf"),
        ("", "ukendt"),
        (None, "ukendt"),
        ("..", "ukendt"),
        ("dir/.", "ukendt"),
        ("/", "ukendt"),
    ],
)
def test_sanitise_name_keeps_only_a_safe_basename(raw: str | None, expected: str) -> None:
    """Path parts, NUL and control characters are removed; empty or dot names become "ukendt"."""
    assert sanitise_name(raw) == expected


def test_long_name_is_capped_and_keeps_the_extension() -> None:
    """A 500-character name is cut to 120 characters and keeps its extension."""
    name = sanitise_name("å" * 500 + ".xlsx")
    assert len(name) == 120
    assert name.endswith(".xlsx")


def test_name_is_nfc_normalised() -> None:
    """Names differing only in Unicode normalisation display the same."""
    assert sanitise_name("ho\u0308ring.pdf") == sanitise_name("h\u00f6ring.pdf") == "h\u00f6ring.pdf"


# ----------------------------------------------------------------------------- text extraction


def test_docx_text_includes_paragraphs_and_table_cells() -> None:
    """A .docx yields its paragraphs and the text of its table cells."""
    att = inspect_attachment("svar.docx", DOCX, _docx_bytes())
    assert att.problem is None
    assert "følgende bemærkninger" in att.text
    assert "Tabellen skal opdateres" in att.text


def test_pdf_text_is_extracted() -> None:
    """A PDF made with fpdf2 yields its text, Danish letters included."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="Høringssvar fra Ældrerådet")
    att = inspect_attachment("svar.pdf", "application/pdf", bytes(pdf.output()))
    assert att.problem is None
    assert "Høringssvar fra Ældrerådet" in att.text


def test_pdf_is_sniffed_without_a_pdf_name() -> None:
    """A PDF is recognised by its magic bytes even under a misleading name."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(text="Indhold")
    att = inspect_attachment("billede.jpg", "image/jpeg", bytes(pdf.output()))
    assert "Indhold" in att.text


def test_broken_pdf_is_refused_with_a_reason() -> None:
    """A truncated PDF gives "Filen kunne ikke læses: …", not an exception."""
    att = inspect_attachment("svar.pdf", "application/pdf", b"%PDF-1.7\n1 0 obj <<")
    assert att.problem is not None
    assert att.problem.startswith("Filen kunne ikke læses")


def test_txt_falls_back_to_cp1252() -> None:
    """A cp1252 text file keeps æøå, € and curly quotes."""
    att = inspect_attachment("svar.txt", "text/plain", "Vi ønsker “ændring” for 5 €".encode("cp1252"))
    assert att.text == "Vi ønsker “ændring” for 5 €"
    assert att.problem is None


def test_eml_is_left_to_the_caller() -> None:
    """A forwarded .eml gets no text and no problem: the mail parser handles it."""
    att = inspect_attachment("fwd.eml", "message/rfc822", b"Subject: x\r\n\r\nbody")
    assert (att.text, att.problem) == ("", None)


def test_plain_workbook_gives_cell_text() -> None:
    """An ordinary .xlsx (not our template) yields the text of its cells and is not a template."""
    att = inspect_attachment("data.xlsx", XLSX, _workbook_bytes())
    assert att.problem is None
    assert not att.is_template
    assert "Hej" in att.text


def test_template_is_recognised_through_inspect_attachment() -> None:
    """Our filled template yields remarks and the hidden reference."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template("r1", "Strategi", "SAND", "1. maj")))
    wb["Høringssvar"]["B7"] = "Mere støtte til frivillige"
    out = io.BytesIO()
    wb.save(out)
    att = inspect_attachment("Høringsskema.xlsx", XLSX, out.getvalue())
    assert att.is_template
    assert att.template_ref is not None
    assert att.template_ref.round_id == "r1"
    assert [r.text for r in att.remarks] == ["Mere støtte til frivillige"]


def test_workbook_formulas_without_values_are_shown_as_text_and_flagged() -> None:
    """A generated workbook (openpyxl: no cached values): its formulas are text, and staff are told where."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Svar"
    ws["A1"] = "Vores bemærkninger"
    ws["A6"] = '=A1&": flere frivillige"'  # below the last cell with a value: calamine's range ends at A1
    out = io.BytesIO()
    wb.save(out)
    att = inspect_attachment("svar.xlsx", XLSX, out.getvalue())
    assert att.text == '[Svar]\nVores bemærkninger\n=A1&": flere frivillige"'
    assert att.problem == (
        "Regnearket indeholder formler uden beregnet værdi (arket »Svar« række 6) – "
        "formlerne er vist som tekst; kontroller dem i filen"
    )


def test_formula_above_and_left_of_the_values_keeps_its_place() -> None:
    """calamine's range starts at the first value (C3); a formula in A1 is put back where it was."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "=TODAY()"
    ws["C3"] = "Tekst"
    out = io.BytesIO()
    wb.save(out)
    att = inspect_attachment("svar.xlsx", XLSX, out.getvalue())
    assert att.text == "[Sheet]\n=TODAY()\n\t\tTekst"
    assert att.problem is not None and "række 1)" in att.problem


def test_template_with_macros_and_formulas_names_both() -> None:
    """Both notes reach the review reason: the ignored macros and the formulas shown as text."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template("r1", "Strategi", "SAND", "1. maj")))
    wb["Høringssvar"]["B7"] = "=1+1"
    out = io.BytesIO()
    wb.save(out)
    data = _rewrite(out.getvalue(), {}, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake"})
    att = inspect_attachment("skema.xlsx", XLSX, data)
    assert [r.text for r in att.remarks] == ["=1+1"]
    assert att.problem is not None
    assert att.problem.startswith(
        PROBLEM_MACROS + "; Skemaet indeholder formler uden beregnet værdi (række 7)"
    )


# ----------------------------------------------------------------------------- hostile files


def _zip_bomb(path: Path) -> bytes:
    """A valid-looking xlsx whose sheet XML expands to about 300 MB of whitespace."""
    base = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info.filename, body)
                continue
            with zout.open(info.filename, "w", force_zip64=True) as part:
                head, tail = body.split(b"<sheetData>", 1)
                part.write(head)
                blank = b" " * (1024 * 1024)
                for _ in range(300):
                    part.write(blank)
                part.write(b"<sheetData>" + tail)
    return path.read_bytes()


def test_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    """An xlsx expanding to 300 MB is refused from its central directory, fast and in bounded memory."""
    data = _zip_bomb(tmp_path / "bomb.xlsx")
    att = _inspect("bomb.xlsx", XLSX, data)
    assert att.problem == PROBLEM_TOO_BIG
    assert _peak_rss_mb("bomb.xlsx", XLSX, data, tmp_path) < 512


def test_nested_zip_is_refused() -> None:
    """An xlsx with a .zip inside is refused."""
    data = _rewrite(_workbook_bytes(), {}, {"xl/embeddings/inner.zip": b"PK\x05\x06" + b"\0" * 18})
    assert inspect_attachment("x.xlsx", XLSX, data).problem == PROBLEM_NESTED


def test_too_many_entries_is_refused() -> None:
    """A ZIP with more than 2,000 entries is refused."""
    data = _rewrite(_workbook_bytes(), {}, {f"xl/media/{i}.txt": b"" for i in range(2_001)})
    problem = inspect_attachment("x.xlsx", XLSX, data).problem
    assert problem is not None
    assert "for mange dele" in problem


def test_billion_laughs_xlsx_is_refused() -> None:
    """A DTD with nested entities in the sheet XML is refused before openpyxl or calamine run."""
    sheet = LAUGHS + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    sheet += b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    data = _rewrite(_workbook_bytes(), {"xl/worksheets/sheet1.xml": sheet})
    att = _inspect("laughs.xlsx", XLSX, data)
    assert att.problem == PROBLEM_DTD


def test_billion_laughs_docx_is_refused() -> None:
    """A DTD with nested entities in word/document.xml is refused before python-docx runs."""
    body = LAUGHS + b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    body += b"<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    data = _rewrite(_docx_bytes(), {"word/document.xml": body})
    assert inspect_attachment("laughs.docx", DOCX, data).problem == PROBLEM_DTD


def test_xxe_is_refused() -> None:
    """An external entity pointing at a local file is refused; the file is never read."""
    sheet = XXE + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    sheet += b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
    att = inspect_attachment(
        "xxe.xlsx", XLSX, _rewrite(_workbook_bytes(), {"xl/worksheets/sheet1.xml": sheet})
    )
    assert att.problem == PROBLEM_DTD
    assert "&xxe;" not in att.text


def test_dtd_in_utf16_part_is_refused() -> None:
    """A UTF-16 encoded XML part cannot hide its DTD from the scan."""
    sheet = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x []><worksheet/>').encode("utf-16")
    data = _rewrite(_workbook_bytes(), {"xl/worksheets/sheet1.xml": sheet})
    assert inspect_attachment("x.xlsx", XLSX, data).problem == PROBLEM_DTD


def test_defusedxml_is_importable() -> None:
    """defusedxml is installed, so openpyxl runs in its defused mode."""
    import defusedxml  # noqa: F401
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_dimension_bomb_is_read_within_bounds(tmp_path: Path) -> None:
    """A sheet declaring A1:XFD1048576 with a far cell is read within bounds in under a second."""
    base = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'<dimension ref="A1"/>', b'<dimension ref="A1:XFD1048576"/>')
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
    sheet = sheet.replace(b"</row></sheetData>", b"</row>" + far + b"</sheetData>")
    data = _rewrite(base, {"xl/worksheets/sheet1.xml": sheet})
    att = _inspect("dim.xlsx", XLSX, data)
    assert "Hej" in att.text
    assert "far" not in att.text  # outside the bounded range
    assert _peak_rss_mb("dim.xlsx", XLSX, data, tmp_path) < 512


def test_xlsm_macros_are_ignored_but_values_read() -> None:
    """An xlsm with vbaProject.bin is read for values only and flagged with a note."""
    wb = openpyxl.load_workbook(io.BytesIO(build_template("r1", "Strategi", "SAND", "1. maj")))
    wb["Høringssvar"]["B7"] = "Tekst i makroskema"
    out = io.BytesIO()
    wb.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        types = zf.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    data = _rewrite(
        out.getvalue(), {"[Content_Types].xml": types}, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake"}
    )
    att = inspect_attachment("skema.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", data)
    assert att.problem == PROBLEM_MACROS
    assert [r.text for r in att.remarks] == ["Tekst i makroskema"]


def _ole_with_stream(stream_name: str, size: int = 4096) -> bytes:
    """A minimal compound file (CFB v3) holding one stream, as encrypted Office files do."""
    sector = 512
    free, end, fatsect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    data_sectors = size // sector
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
    header += struct.pack("<HHHHH6s9I", 0x3E, 3, 0xFFFE, 9, 6, b"\0" * 6, 0, 1, 1, 0, 4096, end, 0, end, 0)
    header += struct.pack("<109I", 0, *([free] * 108))
    fat = [fatsect, end] + [3 + i for i in range(data_sectors - 1)] + [end]
    fat_sector = struct.pack(f"<{sector // 4}I", *(fat + [free] * (sector // 4 - len(fat))))

    def entry(name: str, kind: int, child: int, start: int, length: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, free, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, length)
        )

    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream_name, 2, free, 2, size)
    directory += b"\0" * (sector - len(directory))
    return header + fat_sector + directory + b"\x42" * size


def test_encrypted_office_file_is_refused() -> None:
    """An OLE container with an EncryptedPackage stream is reported as password-protected."""
    att = _inspect("beskyttet.xlsx", XLSX, _ole_with_stream("EncryptedPackage"))
    assert att.problem == PROBLEM_ENCRYPTED


def test_unknown_ole_file_is_refused_with_a_reason() -> None:
    """An OLE container that is neither .msg, .xls nor encrypted gets a reason, not a crash."""
    att = inspect_attachment("x.bin", "application/octet-stream", _ole_with_stream("Something"))
    assert att.problem is not None


def test_corrupt_zip_is_refused_with_a_reason() -> None:
    """Bytes that start like a ZIP but are not one give "Filen kunne ikke læses: …"."""
    att = inspect_attachment("svar.xlsx", XLSX, b"PK\x03\x04" + b"\x00\xff" * 200)
    assert att.problem is not None
    assert att.problem.startswith("Filen kunne ikke læses")


def test_xlsx_name_on_random_bytes_is_refused() -> None:
    """A file named .xlsx that is not a workbook is refused, not silently ignored."""
    att = inspect_attachment("svar.xlsx", XLSX, b"just text")
    assert att.problem is not None


def test_sandbox_timeout_becomes_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that runs past the wall-clock limit is killed and reported, not waited for."""
    monkeypatch.setattr(file_sandbox, "SANDBOX_TIMEOUT_S", 0.001)
    result = file_sandbox.run_sandboxed("ole", _ole_with_stream("EncryptedPackage"))
    assert result["problem"] == file_guard.PROBLEM_TIMEOUT


def test_far_cell_after_a_megabyte_of_padding_is_seen() -> None:
    """The bounding-box scan streams the whole sheet, so a far cell past the first chunk counts."""
    base = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    padding = b"<!--" + random.Random(1).randbytes(750_000).hex().encode() + b"-->"  # incompressible
    far = padding + b'<row r="900000"><c r="ZZ900000"><v>1</v></c></row>'
    sheet = sheet.replace(b"</row></sheetData>", b"</row>" + far + b"</sheetData>")
    facts = file_guard.inspect_zip(_rewrite(base, {"xl/worksheets/sheet1.xml": sheet}))
    assert facts.sheet_cells["xl/worksheets/sheet1.xml"] == 900_000 * 702


def test_parser_abort_in_the_child_becomes_a_problem() -> None:
    """calamine aborting the process (Rust OOM on far-apart cells) kills only the child."""
    base = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
    sheet = sheet.replace(b"</row></sheetData>", b"</row>" + far + b"</sheetData>")
    result = file_sandbox.run_sandboxed("calamine", _rewrite(base, {"xl/worksheets/sheet1.xml": sheet}))
    assert result["problem"].startswith("Filen kunne ikke læses")


def test_html_attachment_gives_text_without_markup() -> None:
    """An HTML attachment yields its visible text; scripts and styles are dropped."""
    page = b"<html><head><style>p{}</style></head><body><script>x()</script><p>Vi st\xc3\xb8tter</p></body></html>"
    att = inspect_attachment("svar.html", "text/html", page)
    assert att.text == "Vi støtter"


def test_oversized_docx_text_part_is_refused() -> None:
    """A docx whose document.xml exceeds 10 MB is refused before python-docx builds its tree."""
    rng = random.Random(2)
    filler = b"<!--" + rng.randbytes(5_500_000).hex().encode() + b"-->"
    with zipfile.ZipFile(io.BytesIO(_docx_bytes())) as zf:
        body = zf.read("word/document.xml")
    data = _rewrite(_docx_bytes(), {"word/document.xml": body.replace(b"<w:body>", filler + b"<w:body>")})
    att = _inspect("stor.docx", DOCX, data)
    assert att.problem is not None
    assert "for stort" in att.problem


def test_docx_with_large_image_is_still_read() -> None:
    """A big picture under word/media does not count against the text-size limit."""
    data = _rewrite(_docx_bytes(), {}, {"word/media/image9.png": random.Random(3).randbytes(12_000_000)})
    assert "følgende bemærkninger" in inspect_attachment("foto.docx", DOCX, data).text


@pytest.mark.parametrize(
    "cell",
    [
        b"<c r='XFD1048576' t='inlineStr'><is><t>far</t></is></c>",
        b'<c r = "XFD1048576" t="inlineStr"><is><t>far</t></is></c>',
        b'<c r="xfd1048576" t="inlineStr"><is><t>far</t></is></c>',
        b'<c r="&#88;FD1048576" t="inlineStr"><is><t>far</t></is></c>',
    ],
)
def test_far_cell_in_unusual_xml_spelling_is_still_bounded(cell: bytes) -> None:
    """Single quotes, spaces, lower case or character references cannot hide a far cell from the scan."""
    base = _workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(base)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b"</row></sheetData>", b'</row><row r="1048576">' + cell + b"</row></sheetData>")
    facts = file_guard.inspect_zip(_rewrite(base, {"xl/worksheets/sheet1.xml": sheet}))
    assert facts.sheet_cells["xl/worksheets/sheet1.xml"] > file_guard.MAX_SHEET_CELLS
    att = _inspect("odd.xlsx", XLSX, _rewrite(base, {"xl/worksheets/sheet1.xml": sheet}))
    assert att.problem is None or att.problem.startswith("Filen kunne ikke læses")
