"""Who is thanked when a round concludes: pure rules over the senders of counted responses.

Nothing goes to a sender our mail server found unverified (the address it showed may be
someone else's), nor to an address whose invitation bounced or a party none of whose
invitations was delivered. Every other address gets one mail, however many responses it sent.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from flows.core.authresults import Trust


class Left(StrEnum):
    """Why a respondent's address is not mailed the final note."""

    UNVERIFIED = "unverified"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class CountedSender:
    """The sender of one counted response, as the database knows it."""

    address: str
    name: str  # the party's name, or the sender's own display name
    party_id: int | None
    trust: Trust
    invitation_bounced: bool  # this address's invitation bounced or was refused
    party_undelivered: bool  # none of the party's invitations was delivered


@dataclass(frozen=True)
class Recipients:
    chosen: list[CountedSender]
    left: Counter[Left]


def recipients(senders: list[CountedSender]) -> Recipients:
    """One per address (case-insensitive), in the order given; the rest counted by reason."""
    chosen: list[CountedSender] = []
    left: Counter[Left] = Counter()
    seen: set[str] = set()
    for sender in senders:
        key = sender.address.strip().casefold()
        if not key or key in seen:
            continue
        seen.add(key)
        if sender.trust is Trust.FAIL:
            left[Left.UNVERIFIED] += 1
        elif sender.invitation_bounced or sender.party_undelivered:
            left[Left.BOUNCED] += 1
        else:
            chosen.append(sender)
    return Recipients(chosen, left)


def dedupe_key(round_id: str, address: str) -> str:
    """One final note per round and address, whatever document or rerun follows."""
    return f"conclusion:{round_id}:{address.strip().casefold()}"
