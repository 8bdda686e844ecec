"""The "physical limit" floors of performance.md §4, run on the same inputs as the pipeline.

Each floor does the same I/O as its stage with no orchestration, validation or object model,
and reports the seconds it spent and the items it handled. Floors that see their input in
chunks (so a 1M corpus never sits in memory) are small classes with ``add`` and ``finish``;
only the time inside them is counted.
"""

from __future__ import annotations

import email
import hashlib
import io
import os
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

_SPACE = re.compile(r"\s+")
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@dataclass
class FloorResult:
    name: str
    seconds: float = 0.0
    items: int = 0
    bytes: int = 0

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0


def mime_parse_floor(messages: Sequence[bytes], result: FloorResult | None = None) -> list[Any]:
    """compat32 ``message_from_bytes`` over the raw bytes; returns the trees for reuse (untimed)."""
    result = result or FloorResult("mime_parse")
    started = time.perf_counter()
    trees = [email.message_from_bytes(data) for data in messages]
    result.seconds += time.perf_counter() - started
    result.items += len(messages)
    result.bytes += sum(len(m) for m in messages)
    return trees


def template_read_floor(workbooks: Sequence[bytes], result: FloorResult | None = None) -> FloorResult:
    """zip + lxml iterparse of every worksheet and the shared strings: what any reader must touch."""
    result = result or FloorResult("template_read")
    started = time.perf_counter()
    for data in workbooks:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for name in zf.namelist():
                if name == "xl/sharedStrings.xml" or name.startswith("xl/worksheets/sheet"):
                    _iter_values(zf.read(name))
    result.seconds += time.perf_counter() - started
    result.items += len(workbooks)
    result.bytes += sum(len(w) for w in workbooks)
    return result


def _iter_values(xml: bytes) -> int:
    count = 0
    for _event, element in etree.iterparse(io.BytesIO(xml), events=("end",)):
        if element.text:
            count += 1
        element.clear()
    return count


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def exact_dedup_floor(normalised: Sequence[str], result: FloorResult | None = None) -> set[bytes]:
    """sha1 of already-normalised text (normalising is the pipeline's own cost, timed apart)."""
    result = result or FloorResult("exact_dedup")
    started = time.perf_counter()
    digests = {hashlib.sha1(text.encode(), usedforsecurity=False).digest() for text in normalised}
    result.seconds += time.perf_counter() - started
    result.items += len(normalised)
    return digests


class RawStoreFloor:
    """Read each message file and write its bytes to a new file with fsync: the raw store's I/O."""

    def __init__(self, root: Path) -> None:
        self.result = FloorResult("raw_store")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, paths: Sequence[Path]) -> None:
        started = time.perf_counter()
        for path in paths:
            data = path.read_bytes()
            with (self.root / f"{self.result.items}").open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            self.result.items += 1
            self.result.bytes += len(data)
        self.result.seconds += time.perf_counter() - started

    def finish(self) -> FloorResult:
        for path in self.root.iterdir():
            path.unlink()
        return self.result


PERSIST_COLUMNS = ("sha256", "sender", "received", "subject", "kind", "body")


class PersistFloor:
    """Raw ``sqlite3.executemany`` in one transaction, or psycopg ``COPY`` for PostgreSQL.

    The table mirrors a response row: a few short columns, the body text, an indexed hash.
    """

    def __init__(self, database_url: str | None) -> None:
        self.result = FloorResult("persist")
        self.url = database_url or ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        started = time.perf_counter()
        if self.url.startswith("postgresql"):
            self._open_postgres()
        else:
            self._open_sqlite()
        self.result.seconds += time.perf_counter() - started

    def _open_sqlite(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="hoering-floor-")
        self.sqlite = sqlite3.connect(Path(self._tmp.name) / "floor.db", isolation_level=None)
        self.sqlite.execute("PRAGMA journal_mode=WAL")
        self.sqlite.execute("PRAGMA synchronous=NORMAL")
        self.sqlite.execute(
            "CREATE TABLE floor (id INTEGER PRIMARY KEY, sha256 TEXT, sender TEXT, received INTEGER, "
            "subject TEXT, kind TEXT, body TEXT)"
        )
        self.sqlite.execute("CREATE INDEX floor_sha ON floor (sha256)")
        self.sqlite.execute("BEGIN")

    def _open_postgres(self) -> None:
        import psycopg

        url = re.sub(r"^postgresql\+\w+://", "postgresql://", self.url)
        self.pg = psycopg.connect(url)
        self.pg.execute(
            "CREATE TEMP TABLE hoering_floor (id BIGSERIAL PRIMARY KEY, sha256 TEXT, sender TEXT, "
            "received BIGINT, subject TEXT, kind TEXT, body TEXT)"
        )
        self.pg.execute("CREATE INDEX ON hoering_floor (sha256)")

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        if self.url.startswith("postgresql"):
            columns = ", ".join(PERSIST_COLUMNS)
            with self.pg.cursor().copy(f"COPY hoering_floor ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.sqlite.executemany(
                "INSERT INTO floor (sha256, sender, received, subject, kind, body) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        self.result.seconds += time.perf_counter() - started
        self.result.items += len(rows)

    def finish(self) -> FloorResult:
        started = time.perf_counter()
        if self.url.startswith("postgresql"):
            self.pg.commit()
            self.pg.close()
        else:
            self.sqlite.execute("COMMIT")
            self.sqlite.close()
        self.result.seconds += time.perf_counter() - started
        if self._tmp is not None:
            self._tmp.cleanup()
        return self.result


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class ExcelFloor:
    """The same cells as inline-string sheet XML, streamed into a deflated zip entry."""

    def __init__(self, path: Path) -> None:
        self.result = FloorResult("excel_log")
        self.path = path
        started = time.perf_counter()
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.sheet.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns='
            b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        )
        self.row = 0
        self.result.seconds += time.perf_counter() - started

    def add(self, rows: Iterable[Sequence[str]]) -> None:
        started = time.perf_counter()
        parts: list[str] = []
        for cells in rows:
            self.row += 1
            parts.append(f'<row r="{self.row}">')
            parts.extend(
                f'<c r="{_column(i)}{self.row}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                for i, v in enumerate(cells)
            )
            parts.append("</row>")
        self.sheet.write("".join(parts).encode())
        self.result.seconds += time.perf_counter() - started
        self.result.items = self.row

    def finish(self) -> FloorResult:
        started = time.perf_counter()
        self.sheet.write(b"</sheetData></worksheet>")
        self.sheet.close()
        self.zip.close()
        self.result.seconds += time.perf_counter() - started
        self.result.bytes = self.path.stat().st_size
        return self.result


def excel_floor(rows: Iterable[Sequence[str]], path: Path) -> FloorResult:
    floor = ExcelFloor(path)
    floor.add(rows)
    return floor.finish()


def word_floor(paragraphs: Sequence[str], path: Path) -> FloorResult:
    """lxml-built w:p/w:r/w:t for the same paragraphs, serialised and zipped."""
    started = time.perf_counter()
    w = f"{{{_W}}}"
    document = etree.Element(f"{w}document", nsmap={"w": _W})
    body = etree.SubElement(document, f"{w}body")
    for text in paragraphs:
        run = etree.SubElement(etree.SubElement(body, f"{w}p"), f"{w}r")
        etree.SubElement(run, f"{w}t").text = _xml_safe(text)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", etree.tostring(document, xml_declaration=True, encoding="UTF-8"))
    return FloorResult("word_note", time.perf_counter() - started, len(paragraphs), path.stat().st_size)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_safe(text: str) -> str:
    return _CONTROL.sub("", text)
