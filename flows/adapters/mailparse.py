"""Raw RFC 5322 bytes → ``ParsedMessage``; never raises.

The entry point of the mail parser. It refuses what would cost too much before any parser sees
it (shared/notes/intake-reliability.md §4.1, performance.md §2.1): a message over the size
limit, and an obvious part bomb (counted by ``Content-Type`` lines: 100k sibling parts take the
stdlib ~18 s), keep only their headers; then the tree is parsed once (with a lossless repair of
an unquoted Outlook Express boundary) and handed to the header reader (``mail_headers``) and the
bounded body walk (``mime_body``).
"""

from __future__ import annotations

import re
from email import policy
from email.errors import StartBoundaryNotFoundDefect
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser

from flows.adapters import mime_boundary
from flows.adapters.file_guard import describe
from flows.adapters.mail_headers import MAIL_POLICY, empty_message, headers_of
from flows.adapters.mime_body import MAX_PARTS, TOO_DEEP, TOO_MANY_PARTS, fill_body
from flows.core.message import ParsedMessage

MAX_BYTES_DEFAULT = 25 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_CONTENT_TYPE_LINE = re.compile(rb"(?im)^content-type[ \t]*:")

mime_boundary.install()  # the feed parser's per-message boundary regex: 15 % of a parse


def parse_message(raw: bytes, *, max_bytes: int = MAX_BYTES_DEFAULT) -> ParsedMessage:
    """Parse one stored message; every failure becomes a Danish ``problems`` entry."""
    try:
        return _parse(raw, max_bytes)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the contract: a bad message is data, never a crash
        parsed = empty_message()
        parsed.problems.append(f"Beskeden kunne ikke læses: {describe(exc)}")
        return parsed


def parse_headers(head: bytes, problem: str) -> ParsedMessage:
    """Only the header block of a message whose body is not to be parsed (too large); never raises."""
    try:
        return _headers_only(head[len(_BOM) :] if head.startswith(_BOM) else head, problem)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # headers we cannot read: the problem still says why nothing was read
        parsed = empty_message()
        parsed.problems.append(problem)
        return parsed


def _parse(raw: bytes, max_bytes: int) -> ParsedMessage:
    if raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if len(raw) > max_bytes:
        return _headers_only(raw, _too_big(len(raw), max_bytes))
    if _looks_like_part_bomb(raw):
        return _headers_only(raw, TOO_MANY_PARTS)
    try:
        msg = _parse_tree(raw)
    except RecursionError:
        return _headers_only(raw, TOO_DEEP)
    parsed = headers_of(msg)
    fill_body(parsed, msg)
    return parsed


def _parse_tree(raw: bytes) -> Message:
    msg = BytesParser(policy=MAIL_POLICY).parsebytes(raw)
    if _boundary_lost(msg):
        # Outlook Express writes ``boundary=----=_NextPart…`` unquoted; the "=" ends the token
        # for policy.default, so no part is found. Quoting the value is a lossless repair.
        repaired = _UNQUOTED_BOUNDARY.sub(rb'\1"\2"', raw)
        if repaired != raw:
            msg = BytesParser(policy=MAIL_POLICY).parsebytes(repaired)
    return msg


_UNQUOTED_BOUNDARY = re.compile(rb"(?i)(\bboundary[ \t]*=[ \t]*)([^\"\s;]+)")


def _boundary_lost(msg: Message) -> bool:
    return any(isinstance(d, StartBoundaryNotFoundDefect) for d in msg.defects) or any(
        isinstance(d, StartBoundaryNotFoundDefect) for part in _first_level(msg) for d in part.defects
    )


def _first_level(msg: Message) -> list[Message]:
    payload = msg.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _looks_like_part_bomb(raw: bytes) -> bool:
    """Far more parts than we would walk: the stdlib needs ~18 s for 100k parts, so refuse early.

    Each part has a ``Content-Type`` line (nesting bombs), or at least a ``--boundary`` line
    (bare sibling parts); a signature's ``-- `` does not match ``^--\\S``.
    """
    # every such line has a colon: counting colons (fast) rules out nearly every message first
    if raw.count(b":") > MAX_PARTS + 1 and len(_CONTENT_TYPE_LINE.findall(raw)) > MAX_PARTS + 1:
        return True
    return (
        raw.count(b"\n--") > MAX_DELIMITER_LINES and len(_DELIMITER_LINE.findall(raw)) > MAX_DELIMITER_LINES
    )


MAX_DELIMITER_LINES = 10 * MAX_PARTS
_DELIMITER_LINE = re.compile(rb"(?m)^--\S")


def _too_big(size: int, limit: int) -> str:
    mb, limit_mb = size / (1024 * 1024), limit / (1024 * 1024)
    return (
        f"Beskeden er for stor ({mb:.1f} MB; grænsen er {limit_mb:.0f} MB): "
        "indholdet og vedhæftningerne er ikke læst, kun brevhovedet"
    )


def _headers_only(raw: bytes, problem: str) -> ParsedMessage:
    """Headers of a message whose body we refuse to parse; the body is never handed to a parser."""
    end = _header_end(raw)
    msg = BytesHeaderParser(policy=policy.default).parsebytes(raw[:end])
    parsed = headers_of(msg)
    parsed.problems.append(problem)
    return parsed


def _header_end(raw: bytes) -> int:
    """Offset just past the blank line that ends the header block (or all of it, bounded)."""
    limit = min(len(raw), 4 * 1024 * 1024)
    ends = [i for i in (raw.find(b"\r\n\r\n", 0, limit), raw.find(b"\n\n", 0, limit)) if i >= 0]
    return min(ends) + 2 if ends else limit
