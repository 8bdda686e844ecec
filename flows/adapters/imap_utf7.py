"""IMAP's modified UTF-7 for mailbox names (RFC 3501 §5.1.3).

A mailbox name on the wire is 7-bit. Printable ASCII (0x20-0x7e) stands for itself, except ``&``,
which is written ``&-``. Every other run of characters is UTF-16 (big-endian, surrogate pairs for
characters beyond the BMP) in base64 with ``,`` in place of ``/`` and no ``=`` padding, between
``&`` and ``-``: ``Høringssvar`` is ``H&APg-ringssvar``.

The stdlib has no codec for it (its ``utf-7`` differs in shift character, alphabet and in which
characters it leaves as they are), and a dependency would be larger than these few lines.
"""

from __future__ import annotations

import base64
import binascii
import re

_PRINTABLE_FIRST, _PRINTABLE_LAST = 0x20, 0x7E
_SHIFTED = re.compile(r"&([^-]*)-")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+,]+")


class ImapUtf7Error(ValueError):
    """A mailbox name that is not valid modified UTF-7 (or text that cannot be encoded)."""


def encode(name: str) -> str:
    """A mailbox name as modified UTF-7."""
    out: list[str] = []
    pending: list[str] = []
    for char in name:
        if _PRINTABLE_FIRST <= ord(char) <= _PRINTABLE_LAST:
            if pending:
                out.append(_shift("".join(pending)))
                pending.clear()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    if pending:
        out.append(_shift("".join(pending)))
    return "".join(out)


def decode(wire: str | bytes) -> str:
    """A modified UTF-7 mailbox name as text; malformed input raises ``ImapUtf7Error``."""
    text = wire.decode("ascii", "strict") if isinstance(wire, bytes) else wire
    if any(not _PRINTABLE_FIRST <= ord(c) <= _PRINTABLE_LAST for c in text):
        msg = f"mailbox name {text!r} holds characters outside printable ASCII"
        raise ImapUtf7Error(msg)
    out: list[str] = []
    position = 0
    for shifted in _SHIFTED.finditer(text):
        out.append(text[position : shifted.start()])
        out.append(_unshift(shifted.group(1)))
        position = shifted.end()
    rest = text[position:]
    if "&" in rest:
        msg = f"mailbox name {text!r} has an '&' without its closing '-'"
        raise ImapUtf7Error(msg)
    out.append(rest)
    return "".join(out)


def _shift(chars: str) -> str:
    try:
        raw = chars.encode("utf-16-be")
    except UnicodeEncodeError as exc:  # a lone surrogate: not text a mailbox can be named
        raise ImapUtf7Error(f"cannot encode {chars!r} as a mailbox name") from exc
    return "&" + base64.b64encode(raw).decode("ascii").rstrip("=").replace("/", ",") + "-"


def _unshift(body: str) -> str:
    if not body:
        return "&"
    if not _BASE64_BODY.fullmatch(body):
        msg = f"'&{body}-' is not base64"
        raise ImapUtf7Error(msg)
    padded = body.replace(",", "/") + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
        chars = raw.decode("utf-16-be")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ImapUtf7Error(f"'&{body}-' is not UTF-16 in base64") from exc
    if any(_PRINTABLE_FIRST <= ord(c) <= _PRINTABLE_LAST for c in chars):
        # RFC 3501: printable ASCII must stand for itself; a server that shifts it is broken,
        # and two spellings of one name would let two names look the same to a case worker
        msg = f"'&{body}-' encodes printable ASCII"
        raise ImapUtf7Error(msg)
    return chars
