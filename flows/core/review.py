"""Why a person must look at an item (``Til gennemsyn``), and what staff's decision does.

The reasons are Danish: they are shown to case workers in the log.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.core.authresults import Trust
from flows.core.classify import Classification
from flows.core.message import ParsedMessage
from flows.core.model import Decision, Kind

# The kinds ``Til gennemsyn`` lists when they carry a reason (a loop or a duplicate never does).
REVIEW_KINDS = (Kind.RESPONSE, Kind.BOUNCE, Kind.AUTO_REPLY, Kind.UNREADABLE)
# What staff's ``Medtag`` turns into a response (it then counts as one).
INCLUDABLE_KINDS = frozenset({Kind.BOUNCE, Kind.AUTO_REPLY, Kind.UNREADABLE})

UNVERIFIED_REASON = (
    "Afsenderen kunne ikke verificeres (vores mailservers kontrol af SPF/DKIM/DMARC fejlede) "
    "– tælles ikke for den høringspart, den udgiver sig for, før det medtages; der er ikke sendt kvittering"
)
NO_RECEIPT_REASON = "Der er ikke sendt kvittering: afsenderen er hverken høringspart eller verificeret"
BOUNCE_REASON = "Returmail: en invitation kunne ikke leveres"
AUTO_REPLY_REASON = "Automatisk svar (fx fravær) – tælles ikke med"
COLLISION_REASON = "Samme Message-ID som et tidligere svar, men andet indhold"
EMPTY_REASON = "Svaret er tomt"


def review_reason(
    parsed: ParsedMessage,
    verdict: Classification,
    kind: str,
    *,
    has_party: bool,
    holds: Sequence[str] = (),
    collision: bool = False,
) -> str:
    """Why a person should look at this item (empty when nobody needs to)."""
    reasons: list[str] = []
    if kind == Kind.BOUNCE:
        reasons.append(verdict.reason or BOUNCE_REASON)
    elif kind == Kind.AUTO_REPLY:
        reasons.append(verdict.reason or AUTO_REPLY_REASON)
    elif kind == Kind.RESPONSE:
        if not has_party:
            who = parsed.from_address or "ukendt"
            reasons.append(f"Ukendt afsender: {who} er ikke en høringspart – tælles ikke, før det medtages")
        if verdict.verified == Trust.FAIL:
            reasons.append(UNVERIFIED_REASON)
        reasons.extend(holds)
        if not has_party and verdict.verified == Trust.NONE and not holds:
            reasons.append(NO_RECEIPT_REASON)
        if parsed.forwarded_author:
            reasons.append(
                f"Videresendt besked; den oprindelige afsender {parsed.forwarded_author} er ikke verificeret"
            )
        if collision:
            reasons.append(COLLISION_REASON)
        if not parsed.body_text.strip() and not parsed.attachments:
            reasons.append(EMPTY_REASON)
    reasons.extend(parsed.problems)
    reasons.extend(f"{a.display_name}: {a.problem}" for a in parsed.attachments if a.problem)
    return "; ".join(dict.fromkeys(reasons))


def may_answer(kind: str, *, held: bool, verified: str, has_party: bool) -> bool:
    """Whether we may write back to the sender (receipt, template reply): never backscatter.

    Only a response that is not held, whose sender is not unverified, and that is either matched
    to a party or whose From domain our own server authenticated (``verified == "pass"``). A
    forged or unknown sender gets nothing: the address it shows may belong to someone else.
    """
    if kind != Kind.RESPONSE or held or verified == Trust.FAIL:
        return False
    return has_party or verified == Trust.PASS


def read_decision(typed: str) -> Decision | None:
    """What staff typed in ``Beslutning`` (any case, spaces around): a decision, or nothing."""
    try:
        return Decision(typed.strip().capitalize())
    except ValueError:
        return None


def kind_after(decision: Decision, kind: str) -> str:
    """``Medtag`` makes a bounce, an auto-reply or an unreadable item a response; else unchanged."""
    if decision == Decision.INCLUDE and kind in INCLUDABLE_KINDS:
        return Kind.RESPONSE.value
    return kind
