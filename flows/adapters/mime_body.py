"""The body walk of the mail parser: body text, forwarded messages and attachments.

It exists apart from the entry point so the bounded walk reads in one place
(shared/notes/intake-reliability.md §4.1):

* the MIME tree is walked iteratively with a depth and a part budget: the stdlib walks
  recursively and raises ``RecursionError`` on deep nesting;
* payloads are decoded by us, not ``get_content()``, through the one charset chain
  (``charset``), so a valid byte never becomes U+FFFD;
* HTML bodies become text through the one HTML routine (``html_text``), and every attachment
  goes to ``attachments.inspect_attachment``.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from flows.adapters.attachments import inspect_attachment
from flows.adapters.charset import decode_bytes, fix_surrogates
from flows.adapters.delivery_status import is_dsn, payload_bytes, read_dsn
from flows.adapters.html_text import html_to_text
from flows.adapters.mail_headers import (
    MAIL_POLICY,
    MAX_ADDRESSES,
    MAX_DEFECTS,
    decode_header_text,
    defect_texts,
    one_line,
    safe_addresses,
    unfold,
)
from flows.core.bodytext import split_answer, strip_controls
from flows.core.message import ParsedAttachment, ParsedMessage

MAX_DEPTH = 20
MAX_PARTS = 500
FORWARD_MARKER = "---------- Videresendt besked ----------"
TOO_MANY_PARTS = f"Beskeden har for mange MIME-dele (over {MAX_PARTS}) og er ikke læst videre"
TOO_DEEP = f"Beskeden er indlejret for dybt (over {MAX_DEPTH} niveauer) og er ikke læst videre"


@dataclass
class _Walk:
    """State of one bounded walk over a MIME tree."""

    parsed: ParsedMessage
    parts: int = 0
    stopped: bool = False
    forwarded: list[str] = field(default_factory=list)


def fill_body(parsed: ParsedMessage, msg: Message) -> None:
    """Body text, answer text, forwarded texts and attachments of a parsed tree, into ``parsed``."""
    walk = _Walk(parsed)
    try:
        texts = _entity_texts(msg, walk, depth=0)
    except RecursionError:
        parsed.problems.append(TOO_DEEP)
        texts = []
    own = _clean("\n\n".join(t for t in texts if t.strip()))
    sections = [own, *(f"{FORWARD_MARKER}\n{text}" for text in walk.forwarded)]
    parsed.body_text = "\n\n".join(s for s in sections if s.strip())
    answers = [split_answer(own), *(f"{FORWARD_MARKER}\n{split_answer(t)}" for t in walk.forwarded)]
    parsed.answer_text = "\n\n".join(a for a in answers if a.strip())


def _clean(text: str) -> str:
    return strip_controls(text).strip("\n")


def _entity_texts(entity: Message, walk: _Walk, depth: int) -> list[str]:
    """Body texts of one message (outer or forwarded), in order; attachments go to ``walk``.

    Iterative, with an explicit stack, so a deep tree costs no Python recursion.
    """
    texts: list[str] = []
    stack: list[tuple[Message, int, bool]] = [(entity, depth, True)]
    while stack:
        part, level, body = stack.pop()
        if not _admit(part, level, walk):
            continue
        ctype = part.get_content_type()
        if part.is_multipart() and ctype != "message/rfc822":
            children = _children(part, ctype, walk)
            stack.extend((child, level + 1, body and keep) for child, keep in reversed(children))
        else:
            texts.extend(_leaf(part, ctype, walk, level, body))
    return texts


def _admit(part: Message, level: int, walk: _Walk) -> bool:
    if walk.stopped:
        return False
    walk.parts += 1
    if level > MAX_DEPTH or walk.parts > MAX_PARTS:
        walk.stopped = True
        walk.parsed.problems.append(TOO_DEEP if level > MAX_DEPTH else TOO_MANY_PARTS)
        return False
    if part.defects:
        room = MAX_DEFECTS - len(walk.parsed.defects)
        walk.parsed.defects.extend(defect_texts(list(part.defects))[: max(room, 0)])
    return True


def _children(part: Message, ctype: str, walk: _Walk) -> list[tuple[Message, bool]]:
    """Children to walk, each with whether its text counts as body text."""
    payload = part.get_payload()
    children = [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []
    if ctype == "multipart/report" and is_dsn(part):
        read_dsn(children, walk.parsed)
        human = [c for c in children if c.get_content_type() in ("text/plain", "text/html")][:1]
        return [(c, True) for c in human]
    if ctype == "multipart/alternative":
        # one alternative gives the text; the others are still walked for their images/files
        best = _best_alternative(children)
        return [(c, c is best) for c in children]
    return [(c, True) for c in children]


def _best_alternative(children: list[Message]) -> Message | None:
    """text/plain is preferred over HTML; otherwise the last (richest) alternative."""
    for child in children:
        if child.get_content_type() == "text/plain" and not _is_attachment(child):
            return child
    return children[-1] if children else None


def _leaf(part: Message, ctype: str, walk: _Walk, level: int, body: bool) -> list[str]:
    if ctype == "message/rfc822":
        _forwarded(part, walk, level)
        return []
    if ctype in ("text/plain", "text/html") and not _is_attachment(part):
        if not body:
            return []
        text = _part_text(part)
        return [html_to_text(text) if ctype == "text/html" else text]
    if ctype in ("message/delivery-status", "text/rfc822-headers"):
        return []  # only meaningful inside a DSN, where read_dsn has read them
    if not body and ctype.startswith("text/") and not _is_attachment(part):
        return []  # another rendering (text/enriched, …) of the alternative we already read
    if ctype.startswith("multipart/"):
        # no boundary was found: the stdlib kept the raw body as one string; keep it as text
        return [_part_text(part)] if body else []
    _attach(part, ctype, walk.parsed)
    return []


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or _filename(part) is not None


def _filename(part: Message) -> str | None:
    """The attachment's name as sent (sanitising is inspect_attachment's job)."""
    try:
        name: object = part.get_filename()
    except Exception:  # a broken RFC 2231 parameter must not lose the part
        name = None
    raw = _raw_name(part)
    if not name or (raw and len(raw) > len(str(name)) and raw.startswith(str(name))):
        # ``name==?utf-8?B?…?=`` or an unquoted name with spaces defeats the stdlib's parser
        name = raw
    return fix_surrogates(str(name)) if name else None


_RAW_NAME = re.compile(r"""(?:^|;)\s*(?:file)?name\s*=\s*(?:"([^"]*)"|([^;]*))""", re.IGNORECASE)


def _raw_name(part: Message) -> str | None:
    for header in ("content-disposition", "content-type"):
        for key, value in part.raw_items():
            if str(key).lower() != header:
                continue
            match = _RAW_NAME.search(unfold(str(value)))
            if match:
                found = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
                return decode_header_text(found) or None
    return None


def _part_text(part: Message) -> str:
    data = payload_bytes(part)
    try:
        declared = part.get_content_charset()
    except Exception:
        declared = None
    text = decode_bytes(data, declared)
    return text[1:] if text.startswith("\ufeff") else text


def _attach(part: Message, ctype: str, parsed: ParsedMessage) -> None:
    name = _filename(part)
    disposition = (part.get_content_disposition() or "").lower()
    # an embedded picture (cid: or marked inline) is part of the text; a loose image is a file
    has_cid = part.get("content-id") is not None
    inline = ctype.startswith("image/") and (
        disposition == "inline" or (has_cid and disposition != "attachment")
    )
    attachment = inspect_attachment(name, ctype, payload_bytes(part))
    attachment.inline = inline
    parsed.attachments.append(attachment)


def _forwarded(part: Message, walk: _Walk, level: int) -> None:
    """A message/rfc822 part: kept as an attachment, its text and author recorded as forwarded."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        _attach(part, "message/rfc822", walk.parsed)
        return
    data = _inner_bytes(inner)
    if _transfer_encoding(part) in ("base64", "quoted-printable"):
        # RFC 2046 forbids it, but some clients encode message/rfc822; the stdlib does not decode
        data = _decode_transfer(data, _transfer_encoding(part))
        inner = BytesParser(policy=MAIL_POLICY).parsebytes(data)
    name = _filename(part) or (one_line(decode_header_text(str(inner.get("subject", ""))))[:80] + ".eml")
    walk.parsed.attachments.append(_forward_attachment(name, data))
    author = _inner_author(inner)
    if author and walk.parsed.forwarded_author is None:
        walk.parsed.forwarded_author = author
    texts = _entity_texts(inner, walk, level + 1)
    walk.forwarded.append(_clean(_forward_header(inner) + "\n\n".join(t for t in texts if t.strip())))


def _transfer_encoding(part: Message) -> str:
    values = [str(v) for k, v in part.raw_items() if str(k).lower() == "content-transfer-encoding"]
    return values[0].strip().lower() if values else ""


def _decode_transfer(data: bytes, encoding: str) -> bytes:
    body = data.split(b"\n\n", 1)[-1] if data.startswith((b"\n", b"\r\n")) else data
    try:
        if encoding == "base64":
            return base64.b64decode(b"".join(body.split()), validate=False)
        return quopri.decodestring(body)
    except (ValueError, binascii.Error):
        return data


def _forward_attachment(name: str, data: bytes) -> ParsedAttachment:
    return inspect_attachment(name, "message/rfc822", data)


def _inner_bytes(inner: Message) -> bytes:
    try:
        return inner.as_bytes(policy=policy.compat32)
    except Exception:  # re-serialising a broken inner message can fail; its text is still read
        return b""


def _inner_author(inner: Message) -> str | None:
    values = [fix_surrogates(str(v)) for _k, v in inner.raw_items() if str(_k).lower() == "from"]
    if not values or values[0].count("@") > MAX_ADDRESSES:
        return None
    found = safe_addresses(values[:1])
    return found[0] if found else None


def _forward_header(inner: Message) -> str:
    """The inner From/Date/Subject lines, so staff can see who wrote the forwarded text."""
    lines = []
    for label, key in (("Fra", "from"), ("Dato", "date"), ("Emne", "subject")):
        values = [str(v) for k, v in inner.raw_items() if str(k).lower() == key]
        if values:
            lines.append(f"{label}: {one_line(decode_header_text(unfold(values[0])))[:300]}")
    return "\n".join(lines) + "\n\n" if lines else ""
