"""The consultation domain: rounds, parties, responses, remarks. Plain data, no I/O.

Nothing here imports SQLAlchemy, Prefect, smtplib or openpyxl; adapters translate to and from
these types at the edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flows.core.errors import UnknownPartyError


class LatePolicy(StrEnum):
    FLAG = "flag"
    EXCLUDE = "exclude"


class NoteLayout(StrEnum):
    """How the note orders what was said: response by response, or by the draft's own sections."""

    BY_PARTY = "by_party"
    BY_SECTION = "by_section"


DEFAULT_RETENTION = "P5Y"
"""How long a closed round's personal data is kept (ISO 8601 duration), unless the file says."""


class PartyStatus(StrEnum):
    """A party's status in the log's tick-list, in the Danish the contract fixes."""

    ANSWERED = "Svar modtaget"
    NO_REMARKS = "Ingen bemærkninger"
    NOT_ANSWERED = "Ikke svaret"
    UNDELIVERED = "Invitation ikke leveret"


class Channel(StrEnum):
    EMAIL = "E-mail"
    TEMPLATE = "Excel-skema"
    MANUAL = "Manuelt"


class Kind(StrEnum):
    """What an incoming message turned out to be. Only RESPONSE counts."""

    RESPONSE = "response"
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"
    LOOP = "loop"
    DUPLICATE = "duplicate"
    UNREADABLE = "unreadable"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    TEMP_FAILED = "temp_failed"
    PERM_FAILED = "perm_failed"
    BOUNCED = "bounced"


class OutboxPurpose(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    RECEIPT = "receipt"
    EXTENSION = "extension"
    TEMPLATE_REJECTED = "template_rejected"
    FAILURE_ALERT = "failure_alert"
    CONCLUSION = "conclusion"  # the final note, mailed once to every counted respondent


class RawState(StrEnum):
    """Where a stored raw message stands: waiting to be parsed, parsed, or given up on."""

    STORED = "stored"
    PROCESSED = "processed"
    QUARANTINED = "quarantined"
    PURGED = "purged"  # the retention period ran out: the bytes are deleted, the row stays


class Decision(StrEnum):
    """What staff wrote in `Til gennemsyn`'s `Beslutning` (the Danish the contract fixes)."""

    INCLUDE = "Medtag"
    REJECT = "Afvis"


class SendOutcome(StrEnum):
    """What one attempt to send one message gave; UNKNOWN: the line died after DATA."""

    SENT = "sent"
    TEMP_FAILED = "temp_failed"
    PERM_FAILED = "perm_failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PartySpec:
    """A party as the round file names it."""

    name: str
    emails: tuple[str, ...]
    domains: tuple[str, ...] = ()
    person: bool = False  # a private person: named in the note, redacted in what is published


@dataclass(frozen=True)
class RoundSpec:
    """A validated round file: everything needed to open or update a round."""

    id: str
    title: str
    subject: str
    administration: str
    consulted_body: str
    opens: datetime
    deadline: datetime
    reply_to: str
    documents: tuple[str, ...]
    reminders: tuple[str, ...]
    late_policy: LatePolicy
    parties: tuple[PartySpec, ...]
    contact: str | None = None
    source_dir: str = "."
    note_layout: NoteLayout = NoteLayout.BY_PARTY
    kle: str | None = None  # KLE number, "00.01.00"
    facet: str | None = None  # KLE handlingsfacet, "G01"
    retention: str = DEFAULT_RETENTION


@dataclass(frozen=True)
class Party:
    id: int
    round_id: str
    name: str
    emails: tuple[str, ...]
    domains: tuple[str, ...] = ()
    extended_until: datetime | None = None
    person: bool = False


@dataclass(frozen=True)
class Round:
    id: str
    title: str
    subject: str
    administration: str
    consulted_body: str
    opens: datetime
    deadline: datetime
    reply_to: str
    documents: tuple[str, ...]
    reminders: tuple[str, ...]
    late_policy: LatePolicy
    source_dir: str
    contact: str | None = None
    closed_at: datetime | None = None
    note_layout: NoteLayout = NoteLayout.BY_PARTY
    kle: str | None = None
    facet: str | None = None
    retention: str = DEFAULT_RETENTION


@dataclass(frozen=True)
class Remark:
    """One point inside a response: an Excel row, or a whole e-mail body."""

    section: str
    text: str
    proposal: str = ""


@dataclass(frozen=True)
class SendResult:
    """What happened to one message for one recipient.

    ``state`` is "sent", "temp_failed", "perm_failed" or "unknown" (connection lost after DATA:
    the server may have accepted it).
    """

    state: str
    code: int | None = None
    text: str = ""
    location: str | None = None


def named_party(parties: Iterable[Party], round_id: str, name_or_address: str) -> Party:
    """A party by its exact name (case-insensitive) or one of its addresses."""
    wanted = name_or_address.strip().casefold()
    for party in parties:
        if party.name.casefold() == wanted or wanted in party.emails:
            return party
    raise UnknownPartyError(round_id, name_or_address)
