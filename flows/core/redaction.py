"""What the public version hides: CPR numbers, e-mail addresses, Danish telephone numbers, the
names of private persons and text staff chose to hide. Pure functions, no I/O.

``Redactor.redact`` replaces every find in one text and records it in its ``Ledger`` (one entry
per place and found text: the rows of the log's ``Offentliggørelse`` sheet). A find staff marked
``Vis`` is left in the text and recorded as shown. ``leaks`` is the public gate's detector: what
may never be in a public document, whoever decided otherwise.

The administration's own addresses and numbers stay (``Own``): the round's reply-to and contact
addresses and every address at their organisation's domain (not at a webmail provider), and a
telephone number on a line that also names the administration or one of its addresses (a
quoted invitation, a staff signature).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from flows.core.cpr import digit_count, find_cpr

EVERYWHERE = "Alle steder"


class Publish(StrEnum):
    """What staff wrote in the sheet's ``Beslutning``: show a find after all, or hide a text."""

    SHOW = "Vis"
    HIDE = "Skjul"


class Reason(StrEnum):
    """Why something was hidden: the sheet's ``Årsag``, in Danish."""

    CPR = "CPR-nummer"
    EMAIL = "E-mailadresse"
    PHONE = "Telefonnummer"
    NAME = "Privatperson"
    STAFF = "Skjult af forvaltningen"


REPLACEMENT = {
    Reason.CPR: "[CPR-nr. fjernet]",
    Reason.EMAIL: "[e-mail fjernet]",
    Reason.PHONE: "[telefonnr. fjernet]",
    Reason.STAFF: "[udeladt]",
}

EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")
# Eight digits with at most one separator between any two of them, and an optional +45 / 0045.
# (No look-behind: it costs a test at every position of every text; ``_is_phone`` looks at the
# character before instead.)
PHONE = re.compile(
    r"(?P<prefix>(?:\+|00)45[ \u00a0.-]?|\(\+45\)[ \u00a0]?)?"
    r"(?P<number>\d(?:[ \u00a0.-]?\d){7})(?![ \u00a0.-]?\d)"
)
_SEPARATORS = re.compile(r"[ \u00a0.-]")
_PHONE_WORDS = re.compile(r"(?:tlf|telefon|mobil|mob|ring|sms|fax|tel)\W{0,4}(?:nr\W{0,3})?$", re.IGNORECASE)
# Eight digits after these words are an identifier, not a telephone number (CVR is public).
_ID_WORDS = re.compile(
    r"(?:cvr|se|p|ean|faktura|ordre|order|sag|sags|journal|j|konto|reg|matr|kunde|bilag|lokalplan)"
    r"\W{0,3}(?:nr|nummer|no)?\W{0,3}$",
    re.IGNORECASE,
)
_AMOUNT_AFTER = re.compile(r"[ \u00a0]?(?:kr\b|kr\.|dkk\b|,-|,\d|\.-|mio|mia)", re.IGNORECASE)
_AMOUNT_BEFORE = re.compile(r"(?:kr\.?|dkk|€|\$)[ \u00a0]?$", re.IGNORECASE)
WEBMAIL = frozenset(
    [
        "gmail.com",
        "gmail.dk",
        "hotmail.com",
        "hotmail.dk",
        "outlook.com",
        "outlook.dk",
        "live.com",
        "live.dk",
        "msn.com",
        "yahoo.com",
        "yahoo.dk",
        "icloud.com",
        "me.com",
        "mail.dk",
        "jubii.dk",
        "ofir.dk",
        "post.tele.dk",
        "protonmail.com",
        "proton.me",
        "aol.com",
        "gmx.com",
        "gmx.net",
        "webspeed.dk",
        "stofanet.dk",
        "youmail.dk",
    ]
)


@dataclass(frozen=True)
class Own:
    """The administration's own addresses and numbers, which the public version keeps."""

    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()

    @classmethod
    def of_round(cls, addresses: Iterable[str | None], names: Iterable[str]) -> Own:
        emails = frozenset(a.strip().lower() for a in addresses if a and "@" in a)
        domains = frozenset(d for d in (e.rpartition("@")[2] for e in emails) if d not in WEBMAIL)
        return cls(emails, domains, tuple(n.strip().lower() for n in names if n.strip()))

    def owns_email(self, address: str) -> bool:
        address = address.lower()
        domain = address.rpartition("@")[2]
        return address in self.emails or any(domain == d or domain.endswith("." + d) for d in self.domains)

    def owns_line(self, line: str) -> bool:
        """A line naming the administration or one of its addresses: its telephone numbers are its own."""
        lowered = line.lower()
        if any(name in lowered for name in self.names):
            return True
        return any(self.owns_email(m.group(0)) for m in EMAIL.finditer(line))


@dataclass(frozen=True)
class PublicDecision:
    """One staff decision, kept across reruns: ``Vis`` (show this find) or ``Skjul`` (hide this text of theirs)."""

    place: str
    found: str
    decision: Publish
    replacement: str = ""
    reason: str = ""
    added: bool = False


@dataclass(frozen=True, slots=True)
class Term:
    """A literal to hide: a private person's name, or a text staff added to the sheet."""

    text: str
    replacement: str
    reason: str
    place: str = EVERYWHERE  # EVERYWHERE, or the one place (``Høringssvar 3``) it applies to

    def pattern(self) -> str:
        words = [re.escape(w) for w in self.text.split()]
        return r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"


@dataclass(slots=True)
class Entry:
    """One row of the sheet: a text found in one place, what it became, and whether it is shown."""

    place: str
    found: str
    replacement: str
    reason: str
    shown: bool = False


@dataclass
class Ledger:
    """Every find, once per place and text, in the order first met."""

    entries: dict[tuple[str, str], Entry] = field(default_factory=dict)

    def note(self, place: str, found: str, replacement: str, reason: str, *, shown: bool) -> None:
        key = (place, found)
        if key not in self.entries:
            self.entries[key] = Entry(place, found, replacement, reason, shown)

    def rows(self) -> list[Entry]:
        return list(self.entries.values())


@dataclass(frozen=True, slots=True)
class Find:
    start: int
    end: int
    found: str
    replacement: str
    reason: str
    place: str | None = None  # a term's own place (EVERYWHERE or one response); else the text's


def find_emails(text: str, own: Own) -> list[Find]:
    if "@" not in text:
        return []
    return [
        Find(m.start(), m.end(), m.group(0), REPLACEMENT[Reason.EMAIL], Reason.EMAIL)
        for m in EMAIL.finditer(text)
        if not own.owns_email(m.group(0))
    ]


def find_phones(text: str, own: Own = Own()) -> list[Find]:
    """Danish telephone numbers (eight digits, any grouping, +45 or 0045 before or not)."""
    found: list[Find] = []
    if digit_count(text) < 8:
        return found
    for m in PHONE.finditer(text):
        if _is_phone(text, m) and not own.owns_line(_line_at(text, m.start())):
            found.append(Find(m.start(), m.end(), m.group(0), REPLACEMENT[Reason.PHONE], Reason.PHONE))
    return found


def _is_phone(text: str, m: re.Match[str]) -> bool:
    if m.start() and text[m.start() - 1] in "0123456789+":
        return False  # the tail of a longer number
    number = m.group("number")
    groups = _SEPARATORS.split(number)
    if any(len(g) < 2 for g in groups) or number[0] in "01":
        return False  # single digits are a list or a count; Danish numbers begin with 2-9
    before = text[max(0, m.start() - 24) : m.start()]
    if m.group("prefix") or _PHONE_WORDS.search(before):
        return True
    if _ID_WORDS.search(before) or _AMOUNT_BEFORE.search(before) or _AMOUNT_AFTER.match(text, m.end()):
        return False
    return not (_thousands(groups) or _grouped_date(groups))


def _thousands(groups: Sequence[str]) -> bool:
    """``12 345 678`` and ``12.345.678`` are amounts: threes after the first group."""
    return len(groups) > 1 and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _grouped_date(groups: Sequence[str]) -> bool:
    """``16-10-2025``, ``2025.10.16``: a date written with separators."""
    sizes = tuple(len(g) for g in groups)
    if sizes == (2, 2, 4):
        day, month, year = groups
    elif sizes == (4, 2, 2):
        year, month, day = groups
    else:
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _line_at(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


def find_cprs(text: str) -> list[Find]:
    return [Find(m.start, m.end, m.text, REPLACEMENT[Reason.CPR], Reason.CPR) for m in find_cpr(text)]


def find_terms(text: str, terms: Sequence[Term]) -> list[Find]:
    found = []
    for term in terms:
        for m in re.finditer(term.pattern(), text, re.IGNORECASE):
            found.append(Find(m.start(), m.end(), term.text, term.replacement, term.reason, term.place))
    return found


class Redactor:
    """Hides what must not be published, leaving what staff marked ``Vis``, and keeps the ledger."""

    def __init__(self, own: Own, terms: Sequence[Term] = (), shown: Iterable[tuple[str, str]] = ()) -> None:
        self.own = own
        self.terms = [t for t in terms if t.text.strip()]
        self.shown = frozenset(shown)
        self.ledger = Ledger()

    def redact(self, text: str, place: str, names: Sequence[Term] = ()) -> str:
        """``text`` with every find in ``place`` replaced; ``names`` are the sender's own names."""
        if not text:
            return text
        terms = [t for t in self.terms if t.place in (EVERYWHERE, place) or place.startswith(t.place + ",")]
        candidates = (
            find_cprs(text)
            + find_emails(text, self.own)
            + find_phones(text, self.own)
            + find_terms(text, [*names, *terms])
        )
        kept: list[Find] = []
        for find in sorted(candidates, key=lambda f: (f.start, -(f.end - f.start))):
            where = find.place or place
            if (where, find.found) in self.shown:
                self.ledger.note(where, find.found, find.replacement, find.reason, shown=True)
                continue
            if kept and find.start < kept[-1].end:
                continue  # inside a longer find already hidden (a CPR number in an address)
            self.ledger.note(where, find.found, find.replacement, find.reason, shown=False)
            kept.append(find)
        out, at = [], 0
        for find in kept:
            out.append(text[at : find.start])
            out.append(find.replacement)
            at = find.end
        out.append(text[at:])
        return "".join(out)

    def name(self, name: str, pseudonym: str) -> str:
        """A private person's name where it stands alone (a heading, a list): its pseudonym, or
        the name itself when staff marked it ``Vis``."""
        if (EVERYWHERE, name) in self.shown:
            self.ledger.note(EVERYWHERE, name, pseudonym, Reason.NAME, shown=True)
            return name
        self.ledger.note(EVERYWHERE, name, pseudonym, Reason.NAME, shown=False)
        return pseudonym


@dataclass(frozen=True, slots=True)
class Leak:
    what: str  # "et CPR-nummer", "en e-mailadresse"
    found: str


def leaks(text: str, own: Own, allowed: frozenset[str] = frozenset()) -> list[Leak]:
    """What the public gate refuses: any CPR number; any e-mail address that is neither the
    administration's own nor one staff chose to show."""
    found = [Leak("et CPR-nummer", m.text) for m in find_cpr(text)]
    found += [Leak("en e-mailadresse", f.found) for f in find_emails(text, own) if f.found not in allowed]
    return found
