"""Which items of a round count, and what that makes of each party: one definition each.

The rule is stated as data (``COUNTING``) so that the Python test below (``is_counted``) and the
SQL the database counts with (``flows.adapters.db.responses.counted_clause``) are both read off
the same definition; ``tests/integration/test_counting_rule.py`` checks them against each other
on every combination of the facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flows.core.authresults import Trust
from flows.core.model import Decision, Kind, OutboxState, PartyStatus


@dataclass(frozen=True)
class CountingRule:
    """A response counts when staff included it, or else when nothing speaks against it.

    ``counted_kind``: only this kind is ever counted (staff's ``Medtag`` turns a bounce or an
    unreadable item into it first). ``rejected``/``included``: staff's decisions, which win
    over everything else. ``untrusted``: a sender verdict that keeps an item out until staff
    include it, as do a held item and one whose party is unknown. Lateness never decides: a
    late response counts and is listed apart (the round's late policy acts in the note only).
    """

    counted_kind: Kind
    included: Decision
    rejected: Decision
    untrusted: Trust
    held_counts: bool
    needs_party: bool


COUNTING = CountingRule(
    counted_kind=Kind.RESPONSE,
    included=Decision.INCLUDE,
    rejected=Decision.REJECT,
    untrusted=Trust.FAIL,
    held_counts=False,
    needs_party=True,
)


class CountFacts(Protocol):
    """What the rule looks at on one item (a response row or any object with these fields)."""

    @property
    def kind(self) -> str: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def party_id(self) -> int | None: ...
    @property
    def verified(self) -> str: ...
    @property
    def held(self) -> bool: ...


def is_counted(item: CountFacts, rule: CountingRule = COUNTING) -> bool:
    """A response counts when its party is known, its sender not unverified and it is not held,
    or staff said so."""
    if item.kind != rule.counted_kind or item.decision == rule.rejected:
        return False
    if item.decision == rule.included:
        return True
    party_ok = item.party_id is not None or not rule.needs_party
    return party_ok and item.verified != rule.untrusted and (rule.held_counts or not item.held)


UNDELIVERED_STATES = frozenset({OutboxState.BOUNCED, OutboxState.PERM_FAILED})


def party_status(counted: int, with_remarks: int, invitation_states: set[str]) -> PartyStatus:
    """The tick-list status of one party, from its counted responses and its invitations."""
    if counted:
        return PartyStatus.ANSWERED if with_remarks else PartyStatus.NO_REMARKS
    if invitation_states and invitation_states <= UNDELIVERED_STATES:
        return PartyStatus.UNDELIVERED
    return PartyStatus.NOT_ANSWERED
