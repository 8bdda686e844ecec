"""Attachments: identify, bound, and extract text from what parties attach.

``inspect_attachment`` never raises. Every file ends as a ``ParsedAttachment``; when it could
not (or should not) be read, ``problem`` holds a Danish reason for the review list.

Why the layers (see shared/notes/intake-reliability.md §4):

* the type is decided by sniffing the bytes, never by the (attacker-chosen) name alone;
* ZIP-based files are checked from the central directory *before* any library opens them
  (declared sizes, ratios, entry count, nested archives, DTDs), because openpyxl's read-only
  mode does not protect against a zip bomb and calamine aborts the whole process (Rust OOM,
  not an exception) on a sheet whose cells are far apart;
* OLE files (.msg, .xls, encrypted Office) and the formats calamine parses without our
  pre-checks (.xls, .xlsb, .ods) are opened only in a child process with a wall-clock timeout
  and an address-space limit, because olefile can hang and calamine can abort.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import resource
import struct
import subprocess
import sys
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.core.message import ParsedAttachment

UNKNOWN_NAME = "ukendt"
MAX_NAME_LEN = 120

MAX_TOTAL_UNCOMPRESSED = 100 * 1024 * 1024
MAX_ENTRY_RATIO = 200
RATIO_MIN_ENTRY = 1024 * 1024
MAX_ENTRIES = 2_000
XML_SCAN_BYTES = 4096
INFLATE_STEP = 256 * 1024
# calamine allocates the whole bounding box of a sheet's cells at once; 2M cells stays far
# below the memory budget, and no legitimate response is larger.
MAX_SHEET_CELLS = 2_000_000

# python-docx builds a full lxml tree and walks it in Python: measured 7.8 s and 270 MB RSS for
# an 18.6 MB document.xml. Real documents of many pages stay well under 10 MB.
MAX_DOCX_XML = 10 * 1024 * 1024
MAX_PDF_PAGES = 200
MAX_TEXT_CHARS = 2_000_000
TEXT_MAX_SHEETS = 5
TEXT_MAX_ROWS = 2_000
TEXT_MAX_COLS = 20

SANDBOX_TIMEOUT_S = 20.0
SANDBOX_MEMORY_BYTES = 512 * 1024 * 1024
SANDBOX_MAX_OUTPUT = 8 * 1024 * 1024

PROBLEM_ENCRYPTED = "Filen er krypteret/beskyttet med adgangskode og kan ikke læses"
PROBLEM_MACROS = "Makroer i regnearket er ignoreret"
PROBLEM_TOO_BIG = "Filen er afvist: den fylder for meget, når den pakkes ud (mulig zip-bombe)"
PROBLEM_NESTED = "Filen er afvist: den indeholder et indlejret zip-arkiv"
PROBLEM_DTD = "Filen er afvist: den indeholder en XML-DTD/ENTITY-erklæring, som ikke er tilladt"
PROBLEM_TIMEOUT = "Filen kunne ikke læses: læsningen tog for lang tid og blev afbrudt"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Starts with a literal so the regex engine can skip ahead fast. It also matches attributes that
# merely end in "r" (header="1"): that can only overstate a sheet's size, never understate it.
_CELL_REF = re.compile(rb'r="([A-Za-z]{0,3})([0-9]{1,9})"')
# Legal XML spellings the fast pattern would miss (single quotes, white space around "="); a
# window holding any of them is scanned with the slower, thorough pattern.
_ODD_SPELLING = re.compile(rb"r(?:\s+=|=\s|=')")
_CELL_REF_THOROUGH = re.compile(rb"""\sr\s*=\s*["']([A-Za-z]{0,3})([0-9]{1,9})["']""")
# An address written with a character or entity reference (r="&#88;FD1") cannot be read cheaply.
_ESCAPED_REF = re.compile(rb"""\sr\s*=\s*["'][^"'<>]*&""")
_LOCAL_HEADER = struct.Struct("<4s22xHH")
# A formula element, with or without a namespace prefix (<f>, <f t="shared" …/>, <x:f>).
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_BAD_CHARS = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class Refused(Exception):
    """A file we will not (or cannot) read; ``reason`` is the Danish text for staff."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def corrupt(detail: str) -> str:
    """The Danish problem text for a file a parser choked on."""
    return f"Filen kunne ikke læses: {detail}"


# --------------------------------------------------------------------------- display name


def sanitise_name(name: str | None) -> str:
    """Basename only, no control characters, NFC, at most 120 characters keeping the extension."""
    raw = unicodedata.normalize("NFC", name or "")
    raw = raw.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in raw if unicodedata.category(ch) not in _BAD_CHARS).strip()
    if cleaned.strip(". ") == "":
        return UNKNOWN_NAME
    if len(cleaned) <= MAX_NAME_LEN:
        return cleaned
    stem, dot, ext = cleaned.rpartition(".")
    if dot and stem and 0 < len(ext) <= 10:
        return stem[: MAX_NAME_LEN - len(ext) - 1] + "." + ext
    return cleaned[:MAX_NAME_LEN]


def _extension(display_name: str) -> str:
    _, dot, ext = display_name.rpartition(".")
    return ext.lower() if dot else ""


# --------------------------------------------------------------------------- ZIP pre-checks


@dataclass
class ZipFacts:
    """What the central directory and the small XML parts told us, before any parser ran."""

    kind: str  # xlsx, xlsm, xlsb, docx, ods, zip, unsupported
    macros: bool = False
    sheet_cells: dict[str, int] = field(default_factory=dict)
    formula_sheets: set[str] = field(default_factory=set)  # worksheet parts holding an <f> element


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise Refused(f"Filen er afvist: den indeholder for mange dele ({len(infos)})")
    if sum(i.file_size for i in infos) > MAX_TOTAL_UNCOMPRESSED:
        raise Refused(PROBLEM_TOO_BIG)
    for info in infos:
        if info.file_size > RATIO_MIN_ENTRY and info.file_size > MAX_ENTRY_RATIO * max(info.compress_size, 1):
            raise Refused(PROBLEM_TOO_BIG)
        if info.filename.lower().endswith(".zip"):
            raise Refused(PROBLEM_NESTED)


def _has_dtd(head: bytes) -> bool:
    # UTF-16 parts would hide the markers from a plain byte search, so decode those first.
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    upper = head.upper()
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper


def _check_xml_parts(data: bytes, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.filename.lower().endswith((".xml", ".rels", ".vml")):
            head = next(_entry_chunks(data, zf, info, XML_SCAN_BYTES), b"")
            if _has_dtd(head):
                raise Refused(PROBLEM_DTD)


def _entry_chunks(data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> Iterator[bytes]:
    """Decompressed chunks of one entry, never more than its declared size.

    Stored and deflated entries are inflated straight from the archive bytes: zipfile's
    per-entry file objects cost more than the scan itself on small templates.
    """
    if info.flag_bits & 1:
        raise Refused(PROBLEM_ENCRYPTED)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with zf.open(info) as part:
            while chunk := part.read(size):
                yield chunk
        return
    signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, info.header_offset)
    if signature != b"PK\x03\x04":
        raise Refused(corrupt("zip-arkivet er beskadiget"))
    start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
    raw = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for offset in range(0, min(len(raw), info.file_size), size):
            yield bytes(raw[offset : min(offset + size, info.file_size)])
        return
    yield from _inflate(raw, min(info.file_size, MAX_TOTAL_UNCOMPRESSED), size)


def _inflate(raw: memoryview, limit: int, size: int) -> Iterator[bytes]:
    """Raw-deflate ``raw`` in chunks of at most ``size``, stopping after ``limit`` bytes.

    Input is fed in steps so that unconsumed input is never copied more than once per step.
    """
    inflater, remaining, pos, pending = zlib.decompressobj(-15), limit, 0, b""
    while remaining > 0 and not inflater.eof:
        if not pending and pos < len(raw):
            pending, pos = bytes(raw[pos : pos + INFLATE_STEP]), pos + INFLATE_STEP
        chunk = inflater.decompress(pending, min(size, remaining))
        pending = inflater.unconsumed_tail
        if chunk:
            remaining -= len(chunk)
            yield chunk
        elif not pending and pos >= len(raw):
            break


def _read_small(zf: zipfile.ZipFile, name: str, limit: int = 1024 * 1024) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise Refused(corrupt(f"delen {name} er unormalt stor"))
    return zf.read(info)


def _kind_from_content_types(types: str) -> str:
    if "spreadsheetml.sheet.main+xml" in types or "spreadsheetml.template.main+xml" in types:
        return "xlsx"
    if "ms-excel.sheet.macroEnabled.main+xml" in types or "ms-excel.template.macroEnabled" in types:
        return "xlsm"
    if "ms-excel.sheet.binary.macroEnabled.main" in types:
        return "xlsb"
    if "wordprocessingml.document.main+xml" in types or "wordprocessingml.template.main+xml" in types:
        return "docx"
    if "ms-word.document.macroEnabled.main+xml" in types or "ms-word.template.macroEnabledTemplate" in types:
        return "docm"
    return "unsupported"


def _sheet_cells(data: bytes, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, bool]:
    """The bounding-box size of the cells a worksheet part really contains, and whether it has formulas."""
    max_row = max_col = 0
    tail = b""
    formulas = False
    for chunk in _entry_chunks(data, zf, info, 1024 * 1024):
        window = tail + chunk
        pattern = _CELL_REF
        formulas = formulas or _FORMULA.search(window) is not None
        if b'r="&' in window:
            return (
                MAX_SHEET_CELLS + 1,
                formulas,
            )  # an address we cannot read cheaply: never hand it to calamine
        if _ODD_SPELLING.search(window):
            if _ESCAPED_REF.search(window):
                return MAX_SHEET_CELLS + 1, formulas
            pattern = _CELL_REF_THOROUGH
        refs = pattern.findall(window)
        if refs:
            letters, numbers = zip(*refs, strict=True)
            max_row = max(max_row, *map(int, numbers))
            max_col = max(max_col, *map(_column_number, set(letters)))
        tail = window[-64:]  # refs cut at a chunk edge are seen whole in the next window
    return max_row * max(max_col, 1), formulas


def _column_number(letters: bytes) -> int:
    """Excel column letters as a number (A=1); 0 for a row reference without letters."""
    number = 0
    for byte in letters.upper():
        number = number * 26 + (byte - 64)
    return number


def inspect_zip(data: bytes) -> ZipFacts:
    """Check a ZIP-based file before any parser sees it. Raises ``Refused`` with the reason."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Refused(corrupt("filen er ikke et gyldigt zip-arkiv")) from exc
    with zf:
        infos = zf.infolist()
        _check_entries(infos)
        names = {i.filename for i in infos}
        try:
            _check_xml_parts(data, zf, infos)
            facts = _classify_zip(zf, names)
            if facts.kind in ("docx", "docm"):
                _check_docx_size(infos)
            if facts.kind in ("xlsx", "xlsm"):
                for info in infos:
                    if "/worksheets/" in info.filename and info.filename.endswith(".xml"):
                        cells, formulas = _sheet_cells(data, zf, info)
                        facts.sheet_cells[info.filename] = cells
                        if formulas:
                            facts.formula_sheets.add(info.filename)
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            OSError,
            EOFError,
            KeyError,
            zlib.error,
            struct.error,
        ) as exc:
            raise Refused(corrupt("zip-arkivet er beskadiget")) from exc
    return facts


def _check_docx_size(infos: list[zipfile.ZipInfo]) -> None:
    parts = (i for i in infos if i.filename.startswith("word/") and i.filename.endswith(".xml"))
    largest = max((i.file_size for i in parts), default=0)  # images under word/media/ do not count
    if largest > MAX_DOCX_XML:
        raise Refused(
            f"Dokumentet er for stort til at blive læst automatisk ({largest // 1_000_000} MB tekstdata)"
        )


def _classify_zip(zf: zipfile.ZipFile, names: set[str]) -> ZipFacts:
    vba = any(n.lower().endswith("vbaproject.bin") for n in names)
    if "[Content_Types].xml" in names:
        types = _read_small(zf, "[Content_Types].xml").decode("utf-8", errors="replace")
        kind = _kind_from_content_types(types)
        # xlsb's content type says "macroEnabled" whether or not it holds macros; vbaProject.bin decides.
        macros = vba or (kind != "xlsb" and "macroEnabled" in types)
        return ZipFacts(kind=kind, macros=macros)
    if "mimetype" in names:
        mimetype = _read_small(zf, "mimetype", 256).decode("ascii", errors="replace").strip()
        manifest = "META-INF/manifest.xml"
        if manifest in names and b"encryption-data" in _read_small(zf, manifest):
            raise Refused(PROBLEM_ENCRYPTED)
        return ZipFacts(kind="ods" if mimetype.endswith("opendocument.spreadsheet") else "unsupported")
    return ZipFacts(kind="zip", macros=vba)


# --------------------------------------------------------------------------- text helpers


def decode_text(data: bytes) -> str:
    """Bytes of a text file as str: BOM, then strict UTF-8, then cp1252, then charset-normalizer."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is not None:
        return data.decode(best.encoding, errors="replace")
    return data.decode("latin-1")


def _cap(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "\n[… teksten er afkortet]"


def cell_text(value: Any) -> str:
    """A spreadsheet cell as display text: 3.0 becomes "3", dates become ISO, None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text.removesuffix("T00:00:00")
    return str(value).strip()


def grid_text(rows: list[list[Any]]) -> str:
    """Rows of cells as tab-separated lines, empty rows dropped."""
    lines = []
    for row in rows[:TEXT_MAX_ROWS]:
        cells = [cell_text(v) for v in row[:TEXT_MAX_COLS]]
        if any(cells):
            lines.append("\t".join(cells).rstrip("\t"))
    return "\n".join(lines)


def _docx_text(data: bytes) -> str:
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
    return "\n".join(parts)


def _pdf_text(data: bytes) -> str:
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
    return "\n".join(p for p in pages if p.strip())


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "lxml")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    return "\n".join(line.strip() for line in soup.get_text("\n").splitlines() if line.strip())


# --------------------------------------------------------------------------- sandbox


def run_sandboxed(mode: str, data: bytes) -> dict[str, Any]:
    """Run ``mode`` on ``data`` in a child process with a timeout and a memory limit."""
    root = str(Path(__file__).resolve().parents[2])
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _SANDBOX_BOOT, root, mode],
            input=data,
            capture_output=True,
            timeout=SANDBOX_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"problem": PROBLEM_TIMEOUT}
    except OSError as exc:
        return {"problem": corrupt(f"læseprocessen kunne ikke startes ({exc.__class__.__name__})")}
    try:
        result: dict[str, Any] = json.loads(done.stdout[:SANDBOX_MAX_OUTPUT])
    except ValueError:
        # no JSON: the child was killed (memory limit, Rust abort) or crashed
        return {"problem": corrupt("filen er beskadiget eller for stor til at blive læst")}
    return result


# -I ignores PYTHONPATH, so the project root is put on sys.path explicitly.
_SANDBOX_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from flows.adapters.attachments import sandbox_main; sandbox_main(sys.argv[2])"
)


def sandbox_main(mode: str) -> None:
    """Child-process entry: limit memory, read stdin, write one JSON object to stdout."""
    resource.setrlimit(resource.RLIMIT_AS, (SANDBOX_MEMORY_BYTES, SANDBOX_MEMORY_BYTES))
    data = sys.stdin.buffer.read()
    try:
        result = _sandbox_dispatch(mode, data)
    except Refused as exc:
        result = {"problem": exc.reason}
    except BaseException as exc:  # includes pyo3 PanicException, which is not an Exception
        result = {"problem": corrupt(_describe(exc))}
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


def _sandbox_dispatch(mode: str, data: bytes) -> dict[str, Any]:
    if mode == "ole":
        return _ole_in_child(data)
    if mode == "calamine":
        return {"text": _calamine_text(data)}
    return {"problem": corrupt("ukendt læsemåde")}


def _ole_in_child(data: bytes) -> dict[str, Any]:
    import olefile

    with olefile.OleFileIO(data) as ole:
        streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=True)}
    tops = {s.split("/", 1)[0] for s in streams}
    upper = {t.upper() for t in tops}  # stream names are case-insensitive in CFB
    if "ENCRYPTEDPACKAGE" in upper:
        return {"kind": "encrypted", "problem": PROBLEM_ENCRYPTED}
    if any(s.startswith("__substg1.0_") for s in tops):
        return {"kind": "msg", "text": _msg_text(data)}
    if upper & {"WORKBOOK", "BOOK"}:
        return {"kind": "xls", "text": _calamine_text(data)}
    if "WORDDOCUMENT" in upper:
        return {"kind": "doc", "problem": "Filformatet (gammelt Word-format .doc) kan ikke læses automatisk"}
    return {"kind": "ole", "problem": "Filformatet (OLE-fil) kan ikke læses automatisk"}


def _msg_text(data: bytes) -> str:
    import extract_msg

    msg = extract_msg.openMsg(data)
    try:
        subject = getattr(msg, "subject", None) or ""
        sender = getattr(msg, "sender", None) or ""
        body = getattr(msg, "body", None) or ""
        html_body = getattr(msg, "htmlBody", None)
        if not body and html_body:
            body = _html_text(html_body)
    finally:
        msg.close()
    return _cap(f"Emne: {subject}\nFra: {sender}\n\n{body}".strip())


def _calamine_text(data: bytes) -> str:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise Refused(PROBLEM_ENCRYPTED) from exc
    return workbook_text(book)


def workbook_text(book: Any) -> str:
    """Text of the first visible worksheets, each read only within the row and column bounds."""
    parts: list[str] = []
    for meta in book.sheets_metadata:
        if len(parts) >= TEXT_MAX_SHEETS:
            break
        if str(meta.visible).endswith("Visible") and str(meta.typ).endswith("WorkSheet"):
            rows = book.get_sheet_by_name(meta.name).to_python(nrows=TEXT_MAX_ROWS)
            text = grid_text(rows)
            if text:
                parts.append(f"[{meta.name}]\n{text}")
    return _cap("\n\n".join(parts))


# --------------------------------------------------------------------------- dispatch


def inspect_attachment(name: str | None, content_type: str, data: bytes) -> ParsedAttachment:
    """A ParsedAttachment with a display-safe name, text and template facts; never raises."""
    attachment = ParsedAttachment(
        display_name=sanitise_name(name),
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    try:
        _fill(attachment)
    except Refused as exc:
        attachment.problem = exc.reason
    except (KeyboardInterrupt, SystemExit):
        raise
    except MemoryError:
        attachment.problem = corrupt("filen er for stor")
    except BaseException as exc:  # a parser failure is a property of the file; pyo3 panics included
        attachment.problem = corrupt(_describe(exc))
    return attachment


def _describe(exc: BaseException) -> str:
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__


def _fill(att: ParsedAttachment) -> None:
    data, ext = att.data, _extension(att.display_name)
    ctype = att.content_type.lower().split(";")[0].strip()
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        _fill_zip(att, inspect_zip(data))
    elif data.startswith(OLE_MAGIC):
        _fill_sandboxed(att, "ole")
    elif data.startswith(b"%PDF") or (ext == "pdf" and b"%PDF" in data[:1024]):
        att.text = _cap(_pdf_text(data))
    elif ext == "eml" or ctype == "message/rfc822":
        att.text = ""  # the mail parser opens forwarded messages itself
    elif ext in ("txt", "csv", "text") or ctype in ("text/plain", "text/csv"):
        att.text = _cap(decode_text(data[: MAX_TEXT_CHARS * 2]))
    elif ext in ("htm", "html") or ctype == "text/html":
        att.text = _cap(_html_text(data[: MAX_TEXT_CHARS * 2]))
    elif ext in _KNOWN_DOCUMENT_EXTENSIONS:
        # a document we cannot read (or one whose bytes do not match its name): a person must look
        raise Refused(_KNOWN_DOCUMENT_EXTENSIONS[ext])


_KNOWN_DOCUMENT_EXTENSIONS = {
    "xlsx": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "xlsm": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "docx": corrupt("filen er ikke et gyldigt Word-dokument"),
    "pdf": corrupt("filen er ikke en gyldig PDF"),
    "msg": corrupt("filen er ikke en gyldig Outlook-meddelelse"),
    "xls": corrupt("filen er ikke et gyldigt Excel-regneark"),
    "rtf": "Filformatet (RTF) kan ikke læses automatisk",
    "odt": "Filformatet (OpenDocument-tekst) kan ikke læses automatisk",
    "doc": "Filformatet (gammelt Word-format .doc) kan ikke læses automatisk",
    "pages": "Filformatet (Apple Pages) kan ikke læses automatisk",
    "numbers": "Filformatet (Apple Numbers) kan ikke læses automatisk",
}


def _fill_zip(att: ParsedAttachment, facts: ZipFacts) -> None:
    if facts.kind in ("xlsx", "xlsm"):
        _fill_workbook(att, facts)
    elif facts.kind in ("docx", "docm"):
        att.text = _cap(_docx_text(att.data))
        if facts.macros:
            att.problem = "Makroer i dokumentet er ignoreret"
    elif facts.kind in ("xlsb", "ods"):
        _fill_sandboxed(att, "calamine")
        if facts.macros and att.problem is None:
            att.problem = PROBLEM_MACROS
    elif facts.kind == "zip":
        raise Refused("Filen er et zip-arkiv; arkiver pakkes ikke ud automatisk")
    else:
        raise Refused("Filformatet kan ikke læses automatisk")


def _fill_workbook(att: ParsedAttachment, facts: ZipFacts) -> None:
    from flows.adapters import response_template

    outcome = response_template.read_checked(att.data, facts)
    att.text = outcome.text
    problems: list[str] = []
    if outcome.template is not None:
        att.remarks = outcome.template.remarks
        att.template_ref = outcome.template.ref
        att.is_template = True
        problems += [outcome.template.problem] if outcome.template.problem else []
    if facts.macros and not problems:
        # still read: the values are what the party wrote; the macros are never run or kept
        problems.append(PROBLEM_MACROS)
    if outcome.notice:
        problems.append(outcome.notice)  # read, but a person must check what the file says
    att.problem = "; ".join(problems) or None


def _fill_sandboxed(att: ParsedAttachment, mode: str) -> None:
    result = run_sandboxed(mode, att.data)
    att.text = _cap(str(result.get("text") or ""))
    problem = result.get("problem")
    att.problem = str(problem) if problem else None
