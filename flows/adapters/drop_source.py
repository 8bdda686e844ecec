"""Files staff drop in by hand (.eml, .msg, .xlsx, .docx, .pdf): collected like mail.

A file may carry its own time of receipt at the start of its name, Copenhagen time, e.g.
``2025-10-24 15.30 brev fra Ældrerådet.pdf``; otherwise it was received when collected.
After the batch is committed the file is moved to ``indlæst/`` so the folder shows what is new.

Every regular file is kept whole, however large (the size limit is the parser's). Anything else
in the folder is never followed or opened: a symlink (it could point at any file the service can
read), a directory, a fifo or device, or a file we may not read stays where it is, and
``left_behind`` names it with the reason for ``status`` and the log's ``Til gennemsyn``.
File names are hostile too: what is shown or stored is ``shown_name``, never the raw name.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from flows.adapters.file_guard import sanitise_name
from flows.adapters.ports import Batch, Cursor, FetchedMessage
from flows.adapters.raw_store import file_chunks, read_file
from flows.core.danish import COPENHAGEN

log = logging.getLogger(__name__)

DONE = "indlæst"
# Office lock files (~$x.docx) and hidden files (.DS_Store) are the tools', not staff's.
IGNORED_PREFIXES = (".", "~$")
STAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T_](\d{2})[.:-](\d{2})")
NAME_MAX_BYTES = 255

LINK = (
    "Genvej (symbolsk link) – ikke indlæst, og filen, den peger på, er ikke læst; "
    "læg selve filen i drop-mappen"
)
FOLDER = "Mappe – ikke indlæst; læg filerne direkte i drop-mappen"
SPECIAL = "Ikke en almindelig fil (fx en pipe eller en enhed) – ikke indlæst"
NO_ACCESS = "Filen kan ikke læses (ingen adgang) – ikke indlæst; ret filens rettigheder"


@dataclass(frozen=True)
class LeftBehind:
    """An entry of the drop folder that was not collected, and why (Danish)."""

    name: str
    reason: str
    since: datetime


class DropSource:
    name = "drop"

    def __init__(self, path: Path, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.clock = clock

    def __enter__(self) -> Self:
        (self.path / DONE).mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        files, left = scan(self.path)
        if left:  # names stay out of the log (they may name a person); status shows them
            log.warning(
                "%d entr(ies) in the drop folder cannot be collected; see `hoering status`", len(left)
            )
        for start in range(0, len(files), size):
            batch = Batch([])
            for path in files[start : start + size]:
                fetched = self._read(path)
                if fetched is None:  # no name: notes reach the run's result and log
                    batch.notes.append("drop: en fil kunne ikke læses og er ikke indlæst (se hoering status)")
                else:
                    batch.messages.append(fetched)
            yield batch

    def acknowledge(self, batch: Batch) -> None:
        for message in batch.messages:
            source = message.local_file
            if source is None or not os.path.lexists(source):
                continue
            target = self.path / DONE / source.name
            if os.path.lexists(target):
                target = target.with_name(_fitted(source.name, f"-{int(self.clock().timestamp())}"))
            try:
                source.replace(target)
            except OSError as exc:  # stored already; the next run finds it stored and tries again
                log.warning("could not move a collected file to %s/: %s", DONE, exc.strerror or exc)

    def _read(self, path: Path) -> FetchedMessage | None:
        try:
            data, whole, identity = read_file(path)
        except OSError:  # swapped for a link or removed since the listing: left, and shown
            return None
        given = stamp_in_name(path.name)
        return FetchedMessage(
            data=data,
            received_at=given or self.clock(),
            received_from="file-name" if given else "collected",
            source="drop",
            source_name=shown_name(path.name),
            stream=None if whole else functools.partial(file_chunks, path, identity),
            local_file=path,
        )


def scan(folder: Path) -> tuple[list[Path], list[LeftBehind]]:
    """The regular files to collect, and every other entry with the reason it is left.

    ``lstat`` only: nothing here follows a link or opens a file.
    """
    files: list[Path] = []
    left: list[LeftBehind] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return [], []
    for entry in entries:
        if entry.name.startswith(IGNORED_PREFIXES):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:  # removed while we looked
            continue
        mode = info.st_mode
        if entry.name == DONE and stat.S_ISDIR(mode):
            continue
        reason = _refusal(entry.path, mode)
        if reason is None:
            files.append(Path(entry.path))
        else:
            since = datetime.fromtimestamp(info.st_mtime, UTC)
            left.append(LeftBehind(shown_name(entry.name), reason, since))
    files.sort(key=lambda p: p.name)
    left.sort(key=lambda e: (e.name, e.reason))
    return files, left


def left_behind(folder: Path) -> list[LeftBehind]:
    """What in the drop folder cannot be collected, with the reason (for status and the log)."""
    return scan(folder)[1]


def _refusal(path: str, mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return FOLDER
    if not stat.S_ISREG(mode):
        return SPECIAL
    if not os.access(path, os.R_OK, follow_symlinks=False):
        return NO_ACCESS
    return None


def shown_name(name: str) -> str:
    """A file name safe to show, store and log: valid UTF-8 (bad bytes as U+FFFD), no control or
    direction characters (a newline, a right-to-left override), at most 120 characters."""
    readable = os.fsencode(name).decode("utf-8", "replace")
    return sanitise_name(readable)


def _fitted(name: str, suffix: str) -> str:
    """``name`` with ``suffix`` before its extension, cut to fit the file system's name limit."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, dot, ext = name, "", ""
    tail = f"{suffix}{dot}{ext}"
    room = NAME_MAX_BYTES - len(os.fsencode(tail))
    encoded = os.fsencode(stem)[:room]
    return os.fsdecode(encoded).rstrip() + tail if encoded else tail.lstrip("-")


def stamp_in_name(name: str) -> datetime | None:
    match = STAMP.match(name)
    if not match:
        return None
    try:
        year, month, day, hour, minute = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, tzinfo=COPENHAGEN)
    except ValueError:
        return None
