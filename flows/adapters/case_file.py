"""The case file on disk: safe file names, the manifest, SHA256SUMS and a reproducible zip.

Reproducible means the same bytes from the same documents: entries in sorted order, every
entry's time fixed (1980-01-01, the zip format's first day), fixed permissions, one compression
level. The manifest holds no time of export, so an unchanged round gives the same manifest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from flows.adapters.files import write_atomically

CHUNK = 1024 * 1024
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MANIFEST_FIELDS = (
    "file",
    "title",
    "direction",
    "date",
    "party",
    "role",
    "attachment_of",
    "media_type",
    "sha256",
    "kle",
    "facet",
)


@dataclass(frozen=True)
class Document:
    """One row of the manifest: one file of the case file."""

    file: str  # relative to the case file's folder, "/"-separated
    title: str
    direction: str  # Indgående / Udgående / Internt
    date: str  # ISO 8601 with the Copenhagen offset
    party: str
    role: str  # Hoveddokument / Bilag
    attachment_of: str  # the main document's file, for an attachment
    media_type: str
    sha256: str
    kle: str
    facet: str


def file_sha256(path: Path) -> str | None:
    """The file's sha256, or None when there is no regular file there."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    return digest.hexdigest()


_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_name(name: str, fallback: str, limit: int = 80) -> str:
    """A file name from outside made safe: no folders, no controls, no leading dot, no backslash.

    ``sha256sum -c`` reads one name per line, so no newline or backslash may remain either.
    """
    text = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("_", text).strip("._")
    if not text:
        return fallback
    stem, dot, suffix = text.rpartition(".")
    if dot and len(suffix) <= 10 and len(text) > limit:
        return f"{stem[: limit - len(suffix) - 1]}.{suffix}"
    return text[:limit]


def copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def write_manifest(folder: Path, round_info: dict[str, str | None], documents: Sequence[Document]) -> None:
    rows = [asdict(d) for d in documents]
    manifest = {**round_info, "documents": rows}
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    buffer = io.StringIO()
    # utf-8 with a BOM and ";" as Danish Excel opens it. Excel computes a quoted "=…" in a CSV all
    # the same, so a value from outside that would start a formula gets a leading apostrophe here
    # (manifest.json keeps every value exactly).
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_FIELDS, delimiter=";", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows({k: _not_a_formula(v) for k, v in row.items()} for row in rows)
    (folder / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _not_a_formula(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def relative_files(folder: Path) -> list[str]:
    """Every file under ``folder``, relative and sorted (the order of SHA256SUMS and the zip)."""
    found = [
        str(Path(root, name).relative_to(folder)).replace(os.sep, "/")
        for root, _dirs, names in os.walk(folder)
        for name in names
    ]
    return sorted(found)


def write_sha256sums(folder: Path) -> None:
    lines = []
    for name in relative_files(folder):
        if name == "SHA256SUMS":
            continue
        lines.append(f"{file_sha256(folder / name)}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


def write_zip(folder: Path, target: Path) -> None:
    """The folder as a zip whose bytes depend only on the files: its top folder inside, as on disk."""

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in relative_files(folder):
                info = zipfile.ZipInfo(f"{folder.name}/{name}", date_time=ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3  # Unix, whatever machine writes it
                with (folder / name).open("rb") as source, zf.open(info, "w") as entry:
                    shutil.copyfileobj(source, entry, CHUNK)

    write_atomically(target, write)


def replace_folder(staging: Path, target: Path) -> None:
    """Put the finished staging folder where the case file goes (the old one, if any, removed)."""
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)


def remove_path(path: Path) -> int:
    """Delete a file or a folder we wrote; 1 when something was there, 0 when it was gone already."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
        return 1
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1
