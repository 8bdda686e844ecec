"""Header parsing for the mail parser: the header block as bounded, decoded values.

It exists apart from the body walk because headers are where the stdlib is slow and an attacker
is cheap (shared/notes/intake-reliability.md §4.1, performance.md §2.1):

* headers are read with ``raw_items()`` and decoded here, because ``policy.default`` parses an
  address header through ``_header_value_parser``, which is quadratic (a 50,000-address ``To:``
  takes ~20 s); address headers are bounded before any parser sees them;
* ``MAIL_POLICY`` parses a header value once, not on every access;
* identity comes only from addr-specs (``flows.core.addresses``), never display names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from flows.adapters.charset import fix_surrogates
from flows.core.addresses import normalise_address
from flows.core.bodytext import strip_controls
from flows.core.message import ParsedMessage

MAX_HEADER_VALUES = 200
MAX_HEADER_CHARS = 10_000
MAX_ADDRESSES = 1_000
MAX_DEFECTS = 100

_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NEWLINES = re.compile(r"[\r\n]+")
_MSGID = re.compile(r"<([^<>\s]+)>")


def empty_message() -> ParsedMessage:
    """A message with nothing read yet, for a parse that failed or has only problems to tell."""
    return ParsedMessage(message_id=None, subject="", from_address=None, from_display="")


class _MemoPolicy(EmailPolicy):
    """policy.default, but a header value is parsed once, not on every access.

    The feed parser and our walk ask each part for its Content-Type about ten times, and
    ``policy.default`` re-parses the header through ``_header_value_parser`` each time: ~70 % of
    the parse time on a small message (performance.md §2.1). Header objects are immutable str
    subclasses, so sharing one parse between calls (and between messages) is safe.
    """

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or len(value) > _MEMO_MAX_CHARS:
            return super().header_fetch_parse(name, value)
        return _memo_header(name.lower(), value)


_MEMO_MAX_CHARS = 2_000


@functools.lru_cache(maxsize=4_096)
def _memo_header(name: str, value: str) -> Any:
    return policy.default.header_fetch_parse(name, value)


MAIL_POLICY = _MemoPolicy()


def headers_of(msg: Message) -> ParsedMessage:
    """The parsed header fields of a message (or of its header block alone); bodies are not read."""
    headers, order, full = _read_headers(msg)
    parsed = empty_message()
    parsed.headers = headers
    # Order across header names matters for sender trust (A-R above or below our Received).
    parsed.header_order = order[: MAX_HEADER_VALUES * 10]

    def first(name: str) -> str:
        values = headers.get(name, [])
        return values[0] if values else ""

    parsed.message_id = message_id(first("message-id"))
    parsed.subject = one_line(decode_header_text(first("subject")))
    # address headers are read whole (the dict keeps 10,000 chars), bounded by _addresses
    _fill_from(parsed, full.get("from", []))
    parsed.to = _addresses(parsed, "To", full.get("to", []))
    parsed.cc = _addresses(parsed, "Cc", full.get("cc", []))
    parsed.reply_to = _addresses(parsed, "Reply-To", full.get("reply-to", []))
    parsed.in_reply_to = message_ids(first("in-reply-to"))
    parsed.references = message_ids(" ".join(headers.get("references", [])))
    parsed.sent_at = parse_date(first("date"))
    parsed.defects.extend(defect_texts(msg.defects))
    return parsed


_ADDRESS_HEADERS = ("from", "to", "cc", "reply-to")


def _read_headers(msg: Message) -> tuple[dict[str, list[str]], list[str], dict[str, list[str]]]:
    """One pass over the raw header block (the stdlib's parsed values are never asked for).

    Returns lower-cased name → unfolded values (topmost first, bounded in count and length),
    the names in order, and the address headers' values unfolded but not cut.
    """
    headers: dict[str, list[str]] = {}
    order: list[str] = []
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        key = str(name).strip().lower()
        order.append(key)
        values = headers.setdefault(key, [])
        if len(values) >= MAX_HEADER_VALUES:
            continue
        text = unfold(str(value))
        values.append(text[:MAX_HEADER_CHARS])
        if key in _ADDRESS_HEADERS:
            found.setdefault(key, []).append(text)
    return headers, order, found


def unfold(value: str) -> str:
    """A header value on one line, its raw 8-bit bytes decoded."""
    text = _NEWLINES.sub(" ", _FOLD.sub("", value)).strip()
    return fix_surrogates(text)


def decode_header_text(value: str) -> str:
    """An unstructured header with RFC 2047 encoded words decoded; never raises."""
    if "=?" not in value:
        return strip_controls(value)
    # Subjects and display names repeat across a round's mail; the stdlib's decoder is slow.
    return _decode_encoded_words(value) if len(value) <= _MEMO_MAX_CHARS else _decode_words(value)


@functools.lru_cache(maxsize=16_384)
def _decode_encoded_words(value: str) -> str:
    return _decode_words(value)


def _decode_words(value: str) -> str:
    try:
        text = str(policy.default.header_factory("subject", value))
    except Exception:  # a malformed encoded word must not cost us the rest of the header
        text = value
    return strip_controls(fix_surrogates(text))


def one_line(text: str) -> str:
    """Text with every run of white space (newlines too) as one space."""
    return " ".join(text.split())


def message_id(value: str) -> str | None:
    """The id inside a Message-ID value, without angle brackets or white space."""
    match = _MSGID.search(value)
    ident = match.group(1) if match else value.strip().strip("<>").strip()
    ident = "".join(ident.split())
    return ident[:998] or None


def message_ids(value: str) -> list[str]:
    """Message-ids from In-Reply-To / References; bare ids (no angle brackets) are accepted."""
    found = _MSGID.findall(value)
    if not found:
        found = [t.strip("<>") for t in re.split(r"[\s,]+", value) if "@" in t]
    return found[:MAX_ADDRESSES]


def parse_date(value: str) -> datetime | None:
    """A Date header as an aware datetime (UTC when it names no zone), None when unreadable."""
    if not value.strip():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _fill_from(parsed: ParsedMessage, values: list[str]) -> None:
    """The sender's addr-spec (never the display name) and the decoded display name."""
    if not values:
        return
    value = values[0]
    if value.count("@") > MAX_ADDRESSES:
        parsed.problems.append("Afsenderfeltet (From) har alt for mange adresser og er ikke læst")
        return
    unquoted = _QUOTED_STRING.sub('""', value)
    bare = _COMMENT.sub(" ", unquoted)
    # an "@" in a comment (``alice@org.dk(<bob@evil.test>``) is as suspect as a second address
    if unquoted.count("@") > 1 or len(values) > 1:
        # "a@org.dk <x@evil.test>" or a list: the angle-bracketed addr-spec wins, staff check it
        parsed.problems.append(
            "Afsenderfeltet (From) er tvetydigt eller har flere adresser; den første er brugt og skal kontrolleres"
        )
    angled = [a for a in (normalised_address(m) for m in _ANGLE_ADDR.findall(bare)) if a]
    found = angled or safe_addresses([bare])
    parsed.from_address = found[0] if found else None
    pairs = [(n, a) for n, a in _address_pairs((value,)) if a]
    name = pairs[0][0] if pairs else ""
    parsed.from_display = one_line(decode_header_text(name))[:1000]


_QUOTED_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*(?:\)|$)")
_ANGLE_ADDR = re.compile(r"<\s*([^<>\s]+@[^<>\s]+)\s*>")


@functools.lru_cache(maxsize=16_384)  # a round's mail names the same few addresses again and again
def normalised_address(address: str) -> str | None:
    """The normalised addr-spec, or None when it is not a valid address."""
    try:
        return normalise_address(address)
    except Exception:  # the stdlib's HeaderParseError is not a ValueError; any failure = invalid
        return None


def _address_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if sum(map(len, values)) > _MEMO_MAX_CHARS:
        return tuple(getaddresses(values))
    return _memo_address_pairs(values)


@functools.lru_cache(maxsize=16_384)  # the To of every answer is the round's own address
def _memo_address_pairs(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple(getaddresses(values))


def safe_addresses(values: list[str]) -> list[str]:
    """Normalised addr-specs from address header values; invalid ones are skipped, never raised.

    ``flows.core.addresses.header_addresses`` lets the stdlib's ``HeaderParseError`` escape
    (e.g. a ``To:`` holding ``@mailman.enron.com``), so the mail parser uses this guarded copy.
    """
    found: list[str] = []
    for _name, addr in _address_pairs(tuple(values)):
        address = normalised_address(addr)
        if address:
            found.append(address)
    return found


def _addresses(parsed: ParsedMessage, label: str, values: list[str]) -> list[str]:
    """Normalised addresses, capped: a huge list is cut before the (slow) parser sees it."""
    joined = ", ".join(values)
    if joined.count("@") <= MAX_ADDRESSES:
        return safe_addresses([joined])
    parsed.problems.append(
        f"Feltet {label} har over {MAX_ADDRESSES} adresser; kun de første {MAX_ADDRESSES} er læst"
    )
    head = [chunk for chunk in joined.split(",", MAX_ADDRESSES + 1)[:MAX_ADDRESSES] if "@" in chunk]
    return safe_addresses([", ".join(head)])[:MAX_ADDRESSES]


def defect_texts(defects: Sequence[object]) -> list[str]:
    """The stdlib's parse defects as short texts, at most ``MAX_DEFECTS``."""
    return [f"{type(d).__name__}: {d}".rstrip(": ") for d in defects[:MAX_DEFECTS]]
