"""The hostile-file guard: what a file from outside must pass before any parser opens it.

It exists so that every reader (attachments, the response template, the party list) refuses a
dangerous file the same way and says why in the same Danish words:

* ``Refused`` carries the Danish reason for staff; ``corrupt`` words a parser's failure;
* the display name is cut to a safe basename (the name is chosen by the sender);
* ZIP-based files are checked from the central directory *before* any library opens them
  (declared sizes, ratios, entry count, nested archives, DTDs), because openpyxl's read-only
  mode does not protect against a zip bomb and calamine aborts the whole process (Rust OOM,
  not an exception) on a sheet whose cells are far apart (shared/notes/intake-reliability.md §4).
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

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
MAX_TEXT_CHARS = 2_000_000

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


def describe(exc: BaseException) -> str:
    """An exception as a short, one-line detail for a Danish problem text (no traceback)."""
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__


def cap(text: str) -> str:
    """Extracted text cut at ``MAX_TEXT_CHARS``, marked when cut."""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "\n[… teksten er afkortet]"


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


def extension(display_name: str) -> str:
    """The lower-cased extension of a (sanitised) name, "" when it has none."""
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
            max_col = max(max_col, *map(column_number, set(letters)))
        tail = window[-64:]  # refs cut at a chunk edge are seen whole in the next window
    return max_row * max(max_col, 1), formulas


def column_number(letters: str | bytes) -> int:
    """Excel column letters as a number (A=1); 0 for a row reference without letters."""
    number = 0
    for char in letters.upper():
        number = number * 26 + ((char if isinstance(char, int) else ord(char)) - 64)
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
