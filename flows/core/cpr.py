"""CPR numbers: where a text holds one, and whether a ten-digit number can be one. Pure functions.

A CPR number is a birth date ``DDMMYY`` and a serial ``SSSS``, written together, with a hyphen,
an en dash, a space or a dot between the two parts. The century follows from the serial's first
digit (the 7th digit) and the year (CPR-kontoret's table, also in the 2007 rules):

    7th digit 0-3: 1900-1999
    7th digit 4 or 9: 2000-2036 for YY 00-36, else 1937-1999
    7th digit 5-8: 2000-2057 for YY 00-57, else 1858-1899

The modulus-11 check is not required: numbers without it have been issued since 2007 (when the
serials of some birth dates ran out), so any number whose date exists is a CPR number here.
Numbers that cannot be dates (order numbers, amounts, most phone numbers with a prefix) are
refused, and so are numbers written as an amount (``kr.``, ``DKK``, a decimal comma after).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# Not after a digit and not before one: a longer number is never cut into a CPR number. Letters
# may touch it ("cpr0102031234", "?cpr=010203-1234"): the number is the same inside a word or link.
CPR_SHAPE = re.compile(r"(?<![\d])(\d{6})([-\u2013 .]?)(\d{4})(?![\d])")
# A link in a chain of numbers ("1890480597-1109024248", "1310345634.1417873381072": MIME
# boundaries, message ids, timestamps) is not a CPR number written alone.
_CHAIN_BEFORE = re.compile(r"\d[-.]$")
_CHAIN_AFTER = re.compile(r"[-.]\d")

_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
_AMOUNT_AFTER = re.compile(r"\s?(?:kr\b|kr\.|dkk\b|,-|,\d|\.-)", re.IGNORECASE)
_AMOUNT_BEFORE = re.compile(r"(?:kr\.?|dkk|€|\$)\s?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CprMatch:
    start: int
    end: int
    text: str
    modulus11: bool  # whether the number passes the old check (shown in the log's reason)


def birth_date(digits: str) -> date | None:
    """The birth date a ten-digit CPR number encodes, or None when it encodes none."""
    if len(digits) != 10 or not digits.isdigit():
        return None
    day, month, yy, seventh = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    year = _century(seventh, yy) + yy
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _century(seventh: int, yy: int) -> int:
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def modulus11(digits: str) -> bool:
    """The pre-2007 control: the weighted digit sum is divisible by 11."""
    return len(digits) == 10 and sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11 == 0


def find_cpr(text: str) -> list[CprMatch]:
    """Every CPR number in ``text``, in order."""
    found: list[CprMatch] = []
    if digit_count(text) < 10:  # most texts: no regex pass at all
        return found
    for m in CPR_SHAPE.finditer(text):
        digits = m.group(1) + m.group(3)
        if birth_date(digits) is None or _is_amount(text, m.start(), m.end()) or _in_chain(text, m):
            continue
        found.append(CprMatch(m.start(), m.end(), m.group(0), modulus11(digits)))
    return found


def digit_count(text: str) -> int:
    """How many ASCII digits ``text`` holds (str.count is far cheaper than any regex pass)."""
    return sum(text.count(d) for d in "0123456789")


def _is_amount(text: str, start: int, end: int) -> bool:
    return bool(_AMOUNT_AFTER.match(text, end) or _AMOUNT_BEFORE.search(text[max(0, start - 5) : start]))


def _in_chain(text: str, m: re.Match[str]) -> bool:
    return bool(
        _CHAIN_BEFORE.search(text[max(0, m.start() - 2) : m.start()]) or _CHAIN_AFTER.match(text, m.end())
    )


def holds_cpr(text: str) -> bool:
    return any(True for _ in find_cpr(text))
