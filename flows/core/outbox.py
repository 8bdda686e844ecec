"""The outbox as the services see it: what is queued, what is stored, what waits. Plain data.

The repository (``flows.adapters.db.outbox``) turns these into rows and back; the services
never see a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flows.core.model import OutboxPurpose, OutboxState

DUE_STATES = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.TEMP_FAILED)
"""States a row may be (re)sent from: never sent, cut off mid-send, or waiting for a retry."""


@dataclass(frozen=True)
class OutboxItem:
    """One message to queue for one recipient; ``dedupe_key`` makes queueing it again a no-op."""

    round_id: str
    purpose: OutboxPurpose
    address: str
    dedupe_key: str
    template: str
    values: dict[str, str]
    party_id: int | None = None
    response_id: int | None = None
    template_party: str | None = None  # the party whose response template goes with it
    in_reply_to: str | None = None
    auto_submitted: str = "auto-generated"
    document: str | None = None  # a file of our data folder to attach (the final note)

    def payload(self) -> dict[str, Any]:
        """What is stored to render the message at send time."""
        return {
            "template": self.template,
            "values": self.values,
            "template_party": self.template_party,
            "in_reply_to": self.in_reply_to,
            "auto_submitted": self.auto_submitted,
            **({"document": self.document} if self.document else {}),
        }


@dataclass(frozen=True)
class OutboxMessage:
    """A stored outbox row, as delivery needs it."""

    id: int
    round_id: str
    purpose: OutboxPurpose
    address: str
    message_id: str
    state: OutboxState
    attempts: int
    possible_duplicate: bool
    payload: dict[str, Any] = field(default_factory=dict)
    party_id: int | None = None
    location: str | None = None


@dataclass(frozen=True)
class Attempt:
    """What one send attempt left on its row (``flows.core.sending.next_attempt`` decides)."""

    state: OutboxState
    next_attempt_at: datetime | None
    possible_duplicate: bool
    code: int | None
    text: str
    location: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class Waiting:
    """Messages of one purpose still in the outbox after a delivery run: none sent, none given up on."""

    count: int
    retry_at: datetime | None  # the earliest next attempt; None when one is due at once
    unreached: bool  # some got no answer from the mail server at all (no connection)
