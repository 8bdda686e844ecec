"""The read model the log and the note are written from, and the staff edits read back.

``services.assembling`` builds an ``Assembly`` from the database; the Excel and Word writers
(adapters) turn it into files. Writers never query the database themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flows.core.model import Channel, PartyStatus, Round
from flows.core.sections import Section

STANDARD_REPLY = "Forvaltningen tager bemærkningen til efterretning."


class LazyText(Protocol):
    """A text kept outside memory (a national round's texts do not fit), read when shown."""

    def read(self) -> str: ...


def resolve(content: str | LazyText) -> str:
    return content if isinstance(content, str) else content.read()


@dataclass(frozen=True)
class PartyLine:
    name: str
    emails: tuple[str, ...]
    invited_at: datetime | None
    status: PartyStatus
    responses: int
    latest: datetime | None


@dataclass(frozen=True, slots=True)
class ResponseLine:
    number: int
    reference: str
    party: str
    sender: str
    received_at: datetime
    channel: Channel
    late: bool
    subject: str
    content: str | LazyText
    attachments: tuple[str, ...] = ()
    no_remarks: bool = False
    campaign: str | None = None
    campaign_size: int = 1
    campaign_parties: tuple[str, ...] = ()
    sha256: str = ""  # of the stored raw message it was parsed from (the log's SHA-256 column)
    full_content: str | LazyText = ""  # the whole body when the note's quote is trimmed from it

    @property
    def text(self) -> str:
        return resolve(self.content)

    @property
    def full_text(self) -> str:
        return resolve(self.full_content)


@dataclass(frozen=True, slots=True)
class StoredLink:
    """The last link of a counted response's chain: its raw message on record and on disk."""

    number: int
    recorded: str | None  # the sha256 on record; None: no raw message is on record
    found: str | None  # the sha256 of the file there now; None: no file is there
    typed_in: bool = False  # a response staff typed in has no raw message


@dataclass(frozen=True, slots=True)
class RemarkLine:
    number: str
    response_number: int
    party: str
    section: str
    content: str | LazyText
    proposal: str
    late: bool = False
    reference: str = ""  # ROUND-0007.1: stable, whatever number the outputs show
    placed_by: str = ""  # `Placeret ud fra`: how `section` was found in the draft
    placed_at: int | None = None  # the position of its section in the draft; None: Generelt

    @property
    def text(self) -> str:
        return resolve(self.content)


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """An item that needs a person: unknown or unverified sender, bounce, unreadable file…"""

    reference: str
    received_at: datetime
    sender: str
    subject: str
    reason: str
    party_hint: str = ""
    decision: str = ""
    decided_party: str = ""


@dataclass(frozen=True)
class StaffNote:
    """What staff wrote for one remark."""

    reply: str = ""
    change: str = ""
    gives_change: str = ""

    def is_empty(self) -> bool:
        return not (self.reply.strip() or self.change.strip() or self.gives_change.strip())

    @property
    def changes_draft(self) -> bool:
        """A change to the draft: marked Ja/Delvist, or a change written with the mark left empty."""
        mark = self.gives_change.strip()
        return mark in ("Ja", "Delvist") or (not mark and bool(self.change.strip()))


@dataclass(frozen=True)
class StaffEdits:
    """Everything a person typed into the log, read back before it is rewritten."""

    notes: dict[str, StaffNote] = field(default_factory=dict)
    decisions: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Assembly:
    """Everything the outputs show for one round."""

    round: Round
    generated_at: datetime
    parties: list[PartyLine]
    responses: list[ResponseLine]
    remarks: list[RemarkLine]
    review: list[ReviewLine]
    notes: dict[str, StaffNote] = field(default_factory=dict)
    stored: tuple[StoredLink, ...] = ()  # the broken links (services.chain); the quality gate reports them
    sections: tuple[Section, ...] = ()  # the draft's own sections, in its order (may be none)

    @property
    def on_time(self) -> list[ResponseLine]:
        return [r for r in self.responses if not r.late]

    @property
    def late(self) -> list[ResponseLine]:
        return [r for r in self.responses if r.late]
