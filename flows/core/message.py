"""What a parsed incoming item looks like to the rest of the pipeline.

The parser (``flows.adapters.mailparse``) turns stored raw bytes into a ``ParsedMessage``;
classification, matching and recording read only this, never the raw MIME tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flows.core.model import Remark


@dataclass(frozen=True)
class TemplateRef:
    """The hidden reference inside a returned Excel template."""

    round_id: str
    party_name: str


@dataclass
class ParsedAttachment:
    """One attachment. ``data`` holds the bytes to store; the name is for display only.

    Once the bytes are in the file store, ``stored_path`` says where and ``data`` is emptied
    (a parse worker stores them, so they need not cross back to the batch's process).
    """

    display_name: str
    content_type: str
    data: bytes
    sha256: str
    inline: bool = False
    text: str = ""
    remarks: list[Remark] = field(default_factory=list)
    template_ref: TemplateRef | None = None
    is_template: bool = False
    problem: str | None = None
    stored_path: str | None = None
    size: int = -1

    def __post_init__(self) -> None:
        if self.size < 0:
            self.size = len(self.data)


@dataclass(frozen=True)
class DeliveryReport:
    """One per-recipient block of an RFC 3464 DSN (or what a non-DSN bounce told us)."""

    recipient: str | None
    action: str
    status: str
    diagnostic: str = ""


@dataclass
class ParsedMessage:
    """An e-mail (or a dropped file made to look like one) after parsing."""

    message_id: str | None
    subject: str
    from_address: str | None
    from_display: str
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    reply_to: list[str] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)
    header_order: list[str] = field(default_factory=list)
    body_text: str = ""
    answer_text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    delivery_reports: list[DeliveryReport] = field(default_factory=list)
    returned_message_id: str | None = None
    forwarded_author: str | None = None
    defects: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def header(self, name: str) -> list[str]:
        """All values of a header, topmost first (names are case-insensitive)."""
        return self.headers.get(name.lower(), [])

    def first(self, name: str) -> str:
        values = self.header(name)
        return values[0] if values else ""
