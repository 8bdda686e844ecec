"""Danish as a case worker writes it: numbers in words, dates, periods, in Copenhagen time."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip
_UNITS = (
    "nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti",
    "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten",
)  # fmt: skip
_TENS = {
    20: "tyve", 30: "tredive", 40: "fyrre", 50: "halvtreds",
    60: "tres", 70: "halvfjerds", 80: "firs", 90: "halvfems",
}  # fmt: skip


def local(moment: datetime) -> datetime:
    """The moment in Copenhagen time (an aware datetime is required)."""
    if moment.tzinfo is None:
        msg = "naive datetime: a moment needs a UTC offset"
        raise ValueError(msg)
    return moment.astimezone(COPENHAGEN)


def number_words(n: int, *, neuter: bool = False) -> str:
    """0–999 in Danish words ("enogtyve"); larger numbers as digits with a '.' separator.

    ``neuter`` gives "ét" for one, as "ét høringssvar" (et-ord) needs.
    """
    if n < 0:
        msg = "negative counts do not occur"
        raise ValueError(msg)
    if n >= 1000:
        return thousands(n)
    if n == 1:
        return "ét" if neuter else "én"
    return _words(n)


def thousands(n: int) -> str:
    """Digits with '.' between the thousands, as Danish writes them: 5001 → "5.001"."""
    return f"{n:,}".replace(",", ".")


def _words(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens * 10] if unit == 0 else f"{_UNITS[unit]}og{_TENS[tens * 10]}"
    hundreds, rest = divmod(n, 100)
    head = "et hundrede" if hundreds == 1 else f"{_UNITS[hundreds]} hundrede"
    return head if rest == 0 else f"{head} og {_words(rest)}"


def count_phrase(n: int, singular: str, plural: str, *, neuter: bool = True) -> str:
    """E.g. ``count_phrase(1, "skriftligt høringssvar", ...)`` → "ét skriftligt høringssvar"."""
    return f"{number_words(n, neuter=neuter)} {singular if n == 1 else plural}"


def responses_phrase(n: int) -> str:
    """ "ét skriftligt høringssvar", "fem skriftlige høringssvar", "ingen skriftlige …"."""
    if n == 0:
        return "ingen skriftlige høringssvar"
    return count_phrase(n, "skriftligt høringssvar", "skriftlige høringssvar")


def day_and_date(moment: datetime, *, with_year: bool = True) -> str:
    """ "fredag den 24. oktober 2025"."""
    when = local(moment)
    text = f"{WEEKDAYS[when.weekday()]} den {when.day}. {MONTHS[when.month - 1]}"
    return f"{text} {when.year}" if with_year else text


def deadline_text(moment: datetime) -> str:
    """ "fredag den 24. oktober 2025 kl. 23.59"."""
    when = local(moment)
    return f"{day_and_date(when)} kl. {when:%H.%M}"


def last_day(deadline: datetime) -> datetime:
    """The last whole day of a period that ends at ``deadline`` (midnight belongs to the day before)."""
    when = local(deadline)
    if (when.hour, when.minute, when.second) == (0, 0, 0):
        return when - timedelta(seconds=1)
    return when


def period_text(opens: datetime, deadline: datetime) -> str:
    """ "torsdag den 16. oktober til og med fredag den 24. oktober" (years shown when they differ)."""
    start, end = local(opens), last_day(deadline)
    show_year = start.year != end.year
    return f"{day_and_date(start, with_year=show_year)} til og med {day_and_date(end, with_year=show_year)}"


def short_datetime(moment: datetime) -> str:
    """ "24.10.2025 kl. 23.59", for tables and receipts."""
    when = local(moment)
    return f"{when:%d.%m.%Y} kl. {when:%H.%M}"


_DANISH_ORDER = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


def danish_key(name: str) -> str:
    """A sort key with Danish collation: æ, ø, å after z; other accents sort with their letter."""
    folded = name.casefold().translate(_DANISH_ORDER)
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
