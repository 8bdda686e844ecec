"""The IMAP wire, read: FETCH answers, INTERNALDATE, UID sets (pure functions over imaplib's data).

Kept apart from ``imap_source`` (the connection and the cursor) so the benchmark and the tests
can use them without a server.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

FETCH_HEAD = re.compile(rb"^\s*\d+\s+\(")
UID = re.compile(rb"\bUID\s+(\d+)", re.IGNORECASE)
SIZE = re.compile(rb"\bRFC822\.SIZE\s+(\d+)", re.IGNORECASE)
INTERNALDATE = re.compile(
    rb'\bINTERNALDATE\s+"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"',
    re.IGNORECASE,
)
MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}


def uid_set(uids: Sequence[int]) -> str:
    """Sorted UIDs as compact ranges ("1:4,7,9:10"), so a chunk stays one short command line."""
    ordered = sorted(set(uids))
    if not ordered:
        return ""
    ranges: list[str] = []
    start = prev = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(ranges)


def parse_fetch(data: Sequence[object]) -> dict[int, tuple[bytes, datetime | None]]:
    """imaplib's FETCH answer → {uid: (literal, INTERNALDATE)}.

    A message arrives as a tuple (attributes-before-literal, literal) followed by a bytes item
    with whatever attributes the server put after the literal; UID may be on either side.
    """
    result: dict[int, tuple[bytes, datetime | None]] = {}
    items = list(data)
    for index, item in enumerate(items):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], bytes)):
            continue
        meta = item[0]
        after = items[index + 1] if index + 1 < len(items) else b""
        if isinstance(after, bytes) and not FETCH_HEAD.match(after):
            meta += b" " + after
        found = UID.search(meta)
        if found is None or not isinstance(item[1], bytes):
            continue
        result[int(found.group(1))] = (item[1], parse_internaldate(meta))
    return result


def parse_internaldate(meta: bytes) -> datetime | None:
    """INTERNALDATE as an aware datetime (imaplib's helper returns local-time tuples)."""
    found = INTERNALDATE.search(meta)
    if found is None:
        return None
    day, mon, year, hh, mm, ss, sign, oh, om = found.groups()
    month = MONTHS.get(mon.decode().lower())
    if month is None:
        return None
    offset = timedelta(hours=int(oh), minutes=int(om)) * (-1 if sign == b"-" else 1)
    return datetime(int(year), month, int(day), int(hh), int(mm), int(ss), tzinfo=timezone(offset))


def answered_for(uid: int, data: Sequence[object]) -> bool:
    """Whether a FETCH answer names ``uid`` (a part past the end comes back as ``""``, no literal)."""
    return any(
        isinstance(line, bytes) and (m := UID.search(line)) and int(m.group(1)) == uid for line in data
    )


def text_of(value: object) -> str:
    if isinstance(value, list | tuple):
        return " ".join(text_of(v) for v in value if v)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, BaseException):
        return text_of(value.args[0]) if value.args else type(value).__name__
    return str(value)


def close_quietly(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        conn.shutdown()
