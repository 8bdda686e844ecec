"""Bytes of a stated or unknown charset as text: the one fallback chain every reader uses.

It exists so that a mail body, a header with raw 8-bit bytes and an attached ``.txt``/``.html``
file are decoded by the same rules (shared/notes/intake-reliability.md §4.1):

* a declared charset is honoured, but iso-8859-1 / us-ascii labels are read as windows-1252
  (WHATWG), because that is what the senders' programs meant;
* without a (usable) label: a byte-order mark decides, then strict UTF-8, then strict cp1252,
  then charset-normalizer's guess, and last windows-1252 as browsers read it. The last step maps
  cp1252's five unassigned bytes to their C1 code points, so a valid byte never becomes U+FFFD,
  and 0x80-0x9F stay the printable characters (€, “ ”, –) a Danish writer typed: latin-1 would
  turn them into invisible control characters.
"""

from __future__ import annotations

import codecs
import re

# charset-normalizer is only a last resort; it samples, but we still bound what it sees
DETECT_MAX_BYTES = 1024 * 1024

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_WHATWG_LATIN1 = {
    "iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1", "iso-ir-100",
    "cp819", "ibm819", "us-ascii", "ascii", "us", "ansi_x3.4-1968", "iso-8859-1:1987",
}  # fmt: skip
# codecs that are text encodings to Python but never a mail charset; an attacker could name them
_REFUSED_CODECS = {"unicode_escape", "raw_unicode_escape", "punycode", "idna", "undefined"}
_SURROGATES = re.compile(r"[\udc80-\udcff]+")


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Bytes → text: the declared charset (latin-1/ascii read as cp1252), else ``decode_text``."""
    label = _label(declared)
    if label is not None and not (label in ("us-ascii", "ascii", "us") and not data.isascii()):
        if label in _WHATWG_LATIN1:
            return whatwg_cp1252(data)
        codec = _codec(label)
        if codec is not None:
            try:
                return data.decode(codec)
            except (UnicodeError, LookupError):
                pass  # mislabelled: the bytes decide (fallback chain below)
    return decode_text(data)


def decode_text(data: bytes) -> str:
    """Bytes of no known charset: BOM, strict UTF-8, cp1252, charset-normalizer, WHATWG cp1252."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    for codec in ("utf-8", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    detected = _detect(data)
    return detected if detected is not None else whatwg_cp1252(data)


def whatwg_cp1252(data: bytes) -> str:
    """windows-1252 as browsers read it: the five unassigned bytes map to the C1 code points."""
    return data.decode("cp1252", "surrogateescape").translate(_C1_FROM_SURROGATE)


def fix_surrogates(text: str) -> str:
    """Undecoded 8-bit bytes (surrogate escapes from the mail parser) decoded by the fallback chain."""
    if not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub(lambda m: decode_bytes(m.group().encode("utf-8", "surrogateescape")), text)


_C1_FROM_SURROGATE = {0xDC00 + b: b for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


def _label(declared: str | None) -> str | None:
    if not declared:
        return None
    label = declared.strip().strip("\"'").strip().lower()
    return label or None


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    return None if name in _REFUSED_CODECS else name


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:DETECT_MAX_BYTES]).best()
        if best is None or best.encoding is None:
            return None
        return data.decode(best.encoding)
    except Exception:  # detection is a guess; any failure (or a wrong guess) means "no guess"
        return None
