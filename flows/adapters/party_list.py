"""A round's parties: a party list file (CSV or Excel .xlsx) read into rows, and rows (from a
file or the round file's inline tables) validated into parties.

Each row comes with where it stood ("parter.csv linje 3", "parter.xlsx række 5"), so every
problem names it as a case worker sees it in their editor. The header row may sit below title
rows (an Excel list usually starts with a merged title); it is the first row, among the first
few that hold anything, with a heading for the name and one for the e-mail address. Headings are
Danish or English; other columns are allowed and ignored.

The workbook is hostile like any file from outside: it passes the ZIP pre-checks of
``file_guard.inspect_zip`` (zip bomb, entry count, DTDs, far-flung cells) before a reader opens
it, cells are read as cached values (a formula is never evaluated), and rows and columns are
read only within fixed bounds.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flows.adapters.file_guard import MAX_SHEET_CELLS, OLE_MAGIC, Refused, inspect_zip
from flows.adapters.workbook_text import calamine_sheets, cell_text
from flows.core.addresses import AddressError, normalise_address, normalise_domain
from flows.core.model import PartySpec
from flows.core.quality import clean_text

MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_XLSX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLS = 60
HEADER_SEARCH_ROWS = 20
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")

_NON_WORD = re.compile(r"[\W_]+")
# The accepted headings after normalising (case folded, spaces, hyphens and dots dropped), per
# field, in order of preference: a list with both "Høringspart" and "Navn" (a contact person)
# takes the party's name from "Høringspart".
HEADINGS: dict[str, tuple[str, ...]] = {
    "name": ("høringspart", "hoeringspart", "horingspart", "name", "navn"),
    "email": ("email", "emailadresse", "emailadresser", "emails", "mail", "mailadresse", "epost"),
    "domains": ("domains", "domain", "domæner", "domæne", "domaener", "domaene"),
    "person": ("person", "privatperson"),
}
# Fields whose every matching column is read (two "E-mail" columns: both sets of addresses).
MERGED = ("email", "domains")

Rows = list[tuple[str, dict[str, Any]]]
Grid = Iterable[tuple[int, list[str]]]


def read_party_file(path: Path, label: str, problems: list[str]) -> Rows:
    """The party rows of a CSV or .xlsx file; problems are appended, each naming its line or row."""
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        grid = _xlsx_grid(path, label, problems)
        return [] if grid is None else _table_rows(grid, label, "række", problems, strict_width=False)
    if suffix in (".xls", ".ods", ".numbers"):
        problems.append(f"{label}: formatet kan ikke læses; gem partslisten som .xlsx eller CSV")
        return []
    if suffix not in TEXT_SUFFIXES:
        problems.append(f"{label}: partslisten skal være en .csv- eller .xlsx-fil")
        return []
    grid = _csv_grid(path, label, problems)
    return [] if grid is None else _table_rows(grid, label, "linje", problems, strict_width=True)


# --------------------------------------------------------------------------- CSV


def _csv_grid(path: Path, label: str, problems: list[str]) -> list[tuple[int, list[str]]] | None:
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            problems.append(f"{label}: partslisten er for stor (over 5 MB)")
            return None
        raw = path.read_bytes()
    except OSError:
        problems.append(f"partslisten {label} findes ikke eller kan ikke læses")
        return None
    text, problem = decode_csv(raw)
    if text is None:
        problems.append(f"{label}: {problem}")
        return None
    if "\x00" in text:
        problems.append(f"{label}: er ikke en CSV-fil (indeholder binære data)")
        return None
    delimiter = _delimiter(text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if len(grid) > MAX_ROWS:
                problems.append(f"{label}: partslisten har mere end {MAX_ROWS} linjer")
                return None
            grid.append((reader.line_num, row))
    except csv.Error as exc:
        problems.append(f"{label} linje {reader.line_num}: {exc}")
        return None
    return grid


def _delimiter(head: list[str]) -> str:
    """The separator that makes one of the first lines a header row, else the first line's commonest.

    Counting over data lines would mislead: "a@x.dk; b@x.dk" in a comma-separated list.
    """
    for line in head:
        for delimiter in ",;\t":
            if _header(next(csv.reader([line], delimiter=delimiter), [])) is not None:
                return delimiter
    return max(",;\t", key=head[0].count) if head else ","


def decode_csv(raw: bytes) -> tuple[str | None, str]:
    """The text of a CSV file, or None and the Danish reason.

    A byte-order mark decides (Excel's "Unicode-tekst" is UTF-16 with one); without one, a file
    whose every other byte is zero is UTF-16 too; otherwise strict UTF-8, then Windows-1252
    (Danish Excel's "CSV (semikolonsepareret)").
    """
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _utf16(raw, "utf-16")
    if not raw.startswith(codecs.BOM_UTF8):
        sixteen = _bomless_utf16(raw[:4096])
        if sixteen:
            return _utf16(raw, sixteen)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), ""
        except UnicodeDecodeError:
            continue
    return None, "kan ikke læses som tekst (hverken UTF-8 eller Windows-1252)"


def _utf16(raw: bytes, codec: str) -> tuple[str | None, str]:
    try:
        return raw.decode(codec), ""
    except UnicodeDecodeError:
        return None, "filen er UTF-16, men kan ikke afkodes (beskadiget); gem den som CSV UTF-8"


def _bomless_utf16(sample: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" when zero bytes fill one of the two byte positions, else None."""
    if len(sample) < 8:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


# --------------------------------------------------------------------------- Excel


def _xlsx_grid(path: Path, label: str, problems: list[str]) -> list[tuple[int, list[str]]] | None:
    try:
        if path.stat().st_size > MAX_XLSX_BYTES:
            problems.append(f"{label}: partslisten er for stor (over 20 MB)")
            return None
        data = path.read_bytes()
    except OSError:
        problems.append(f"partslisten {label} findes ikke eller kan ikke læses")
        return None
    try:
        if data.startswith(OLE_MAGIC):  # an encrypted .xlsx is an OLE container, as is an old .xls
            raise Refused(
                "regnearket er beskyttet med adgangskode eller i det gamle .xls-format; "
                "gem partslisten som .xlsx uden adgangskode"
            )
        facts = inspect_zip(data)
        if facts.kind not in ("xlsx", "xlsm"):
            raise Refused("filen er ikke et Excel-regneark (.xlsx)")
        # calamine allocates a sheet's whole bounding box (a Rust abort, not an exception, when it
        # is huge); a response is then read by openpyxl within bounds, but a party list that big
        # is no party list, and a bounded read could drop rows without a word.
        if any(cells > MAX_SHEET_CELLS for cells in facts.sheet_cells.values()):
            raise Refused(
                "regnearket er for stort til en partsliste (celler spredt over mere end "
                f"{MAX_SHEET_CELLS:,} felter; slet indhold langt fra listen)".replace(",", ".")
            )
        rows = _first_sheet_rows(data)
    except Refused as exc:
        problems.append(f"{label}: {exc.reason[:1].lower()}{exc.reason[1:]}")
        return None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # reader errors (and pyo3 panics) mean an unreadable workbook
        problems.append(f"{label}: kan ikke læses som Excel-regneark ({type(exc).__name__})")
        return None
    if rows is None:
        problems.append(f"{label}: regnearket har intet synligt ark")
        return None
    # Row numbers as Excel shows them: the rows are read from A1.
    return [(number, [cell_text(v) for v in row[:MAX_COLS]]) for number, row in enumerate(rows, 1)]


def _first_sheet_rows(data: bytes) -> list[list[Any]] | None:
    """The cells of the first visible worksheet, as cached values, from A1; None without one."""
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError as exc:
        raise Refused("filen er beskyttet med adgangskode og kan ikke læses") from exc
    for name, shown in calamine_sheets(book):  # the one visibility rule of every workbook reader
        if shown:
            sheet = book.get_sheet_by_name(name)
            if sheet.end is not None and sheet.end[0] + 1 > MAX_ROWS:
                raise Refused(f"partslisten har mere end {MAX_ROWS} rækker")
            # skip_empty_area=False keeps leading empty rows, so list positions are sheet rows.
            rows: list[list[Any]] = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
            return rows
    return None


# --------------------------------------------------------------------------- the table


def heading_field(value: str) -> tuple[str, int] | None:
    """The field a heading names and its preference (lower first), or None."""
    key = _NON_WORD.sub("", value.casefold())
    for field, accepted in HEADINGS.items():
        if key in accepted:
            return field, accepted.index(key)
    return None


def _header(cells: list[str]) -> dict[str, list[int]] | None:
    """Column positions per field when ``cells`` is a header row (has name and e-mail), else None."""
    found: dict[str, list[tuple[int, int]]] = {}
    for position, value in enumerate(cells):
        named = heading_field(value)
        if named is not None:
            found.setdefault(named[0], []).append((named[1], position))
    if "name" not in found or "email" not in found:
        return None
    columns: dict[str, list[int]] = {}
    for field, hits in found.items():
        ordered = sorted(hits)
        columns[field] = [p for _, p in ordered] if field in MERGED else [ordered[0][1]]
    return columns


def _table_rows(grid: Grid, label: str, unit: str, problems: list[str], *, strict_width: bool) -> Rows:
    columns: dict[str, list[int]] | None = None
    width = 0
    seen = 0
    first: tuple[int, list[str]] | None = None
    rows: Rows = []
    for number, cells in grid:
        if not any(c.strip() for c in cells):
            continue
        if columns is None:
            first = first or (number, cells)
            columns = _header(cells)
            width = len(cells)
            seen += 1
            if columns is None and seen >= HEADER_SEARCH_ROWS:
                break
            continue
        where = f"{label} {unit} {number}"
        if strict_width and len(cells) > width and any(c.strip() for c in cells[width:]):
            problems.append(f"{where}: for mange felter")
            continue
        entry: dict[str, Any] = {}
        for field, positions in columns.items():
            values = [cells[p].strip() for p in positions if p < len(cells) and cells[p].strip()]
            entry[field] = "; ".join(values)
        rows.append((where, entry))
    if columns is None:
        start, cells = first or (1, [])
        shown = [c.strip() for c in cells if c.strip()][:8]
        problems.append(
            f"{label} {unit} {start}: kolonnerne 'name' og 'email' (eller 'Navn'/'Høringspart' og "
            f"'E-mail') skal være der (fandt {shown})"
        )
    return rows


# --------------------------------------------------------------------------- parties

MAX_NAME_CHARS = 500  # the parties table's column
# Right-to-left and other direction overrides make a name read differently than it is.
TRUE_WORDS = frozenset({"ja", "j", "x", "yes", "y", "true", "sand", "1"})
FALSE_WORDS = frozenset({"", "nej", "n", "no", "false", "falsk", "0"})


def shown(value: Any, limit: int = 80) -> str:
    """A value from the file as an error shows it: quoted, escaped, and cut when long."""
    text = str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _party_name(entry: dict[str, Any], where: str, problems: list[str]) -> str | None:
    raw = entry.get("name")
    # Invisible bidi and zero-width characters come along when a name is pasted from a document;
    # nobody can see them to remove them, so they are dropped here rather than refused
    name = clean_text(unicodedata.normalize("NFC", str(raw if raw is not None else ""))).strip()
    if not name:
        problems.append(f"{where}: 'name' mangler")
        return None
    if len(name) > MAX_NAME_CHARS:
        problems.append(f"{where}: navnet {shown(name)} er for langt (over {MAX_NAME_CHARS} tegn)")
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        problems.append(f"{where}: navnet {name!r} indeholder linjeskift eller tabulatortegn")
        return None
    return name


def _person(value: Any, where: str, problems: list[str]) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    word = str(value).strip().casefold()
    if isinstance(value, str) and word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    problems.append(f"{where}: 'person' skal være ja eller nej ({shown(value)})")
    return False


def party_specs(rows: Iterable[tuple[str, dict[str, Any]]], problems: list[str]) -> tuple[PartySpec, ...]:
    """The parties of ``rows`` (inline tables or a file's rows), each problem naming its row.

    A name and an address (or domain) are needed; an address or domain belongs to one party only.
    """
    parties: list[PartySpec] = []
    owner: dict[str, str] = {}
    names: dict[str, str] = {}
    for where, entry in rows:
        name = _party_name(entry, where, problems)
        if name is None:
            continue
        if name.casefold() in names:
            problems.append(f"{where}: høringsparten {name!r} står to gange ({names[name.casefold()]})")
            continue
        names[name.casefold()] = where
        person = _person(entry.get("person"), where, problems)
        emails = _split(entry.get("email"))
        domains = _split(entry.get("domains"))
        if not emails and not domains:
            problems.append(f"{where}: 'email' mangler for {name!r}")
        good: list[str] = []
        for raw in emails:
            try:
                address = normalise_address(raw)
            except AddressError:
                problems.append(f"{where}: ugyldig e-mailadresse {shown(raw)} for {name!r}")
                continue
            if address in owner:
                problems.append(f"{where}: adressen {address} står både ved {owner[address]!r} og {name!r}")
                continue
            owner[address] = name
            good.append(address)
        good_domains: list[str] = []
        for raw in domains:
            try:
                domain = normalise_domain(raw.lstrip("@"))
            except ValueError:
                problems.append(f"{where}: ugyldigt domæne {shown(raw)} for {name!r}")
                continue
            key = "@" + domain
            if key in owner:
                problems.append(f"{where}: domænet {domain} står både ved {owner[key]!r} og {name!r}")
                continue
            owner[key] = name
            good_domains.append(domain)
        parties.append(PartySpec(name=name, emails=tuple(good), domains=tuple(good_domains), person=person))
    return tuple(parties)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in re.split(r"[;,\s]+", str(value)) if part.strip()]
