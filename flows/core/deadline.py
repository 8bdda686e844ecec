"""The deadline, judged by the time our own server received a message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flows.core.danish import COPENHAGEN, short_datetime

# A Received: header is our own only when it lies in this window before the Maildir delivery
# time: our server writes it on accepting the message and delivers it moments later; a content
# filter or a short queue may take minutes. 15 minutes covers that; anything earlier is not our
# stamp (a sender can write any Received: header it likes, dated 1970 or 2100).
RECEIVED_BEFORE_DELIVERY = timedelta(minutes=15)
# Our MTA and the host that writes the Maildir may run on clocks a little apart.
RECEIVED_AFTER_DELIVERY = timedelta(minutes=2)
# A receipt time later than the collect that fetched it (plus this much skew) is in the future.
FUTURE_SKEW = timedelta(minutes=5)


def effective_deadline(round_deadline: datetime, party_extension: datetime | None) -> datetime:
    """A party's own deadline when it has been extended beyond the round's."""
    if party_extension is not None and party_extension > round_deadline:
        return party_extension
    return round_deadline


def is_late(received_at: datetime, deadline: datetime) -> bool:
    """Late means strictly after the deadline; the deadline second itself is on time."""
    return received_at > deadline


def reminder_due_at(deadline: datetime, offset: str) -> datetime:
    """When a reminder with offset like "3d" or "12h" falls due.

    Days are counted on the Copenhagen wall clock ("3d" before 23.59 is 23.59 three days
    earlier, also across a daylight-saving change); hours are elapsed time.
    """
    match = re.fullmatch(r"(\d+)([dh])", offset)
    if match is None:
        msg = f"bad reminder offset {offset!r}"
        raise ValueError(msg)
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "h":
        return deadline - timedelta(hours=amount)
    # Aware arithmetic within one ZoneInfo is wall-clock arithmetic; the offset is recomputed.
    return (deadline.astimezone(COPENHAGEN) - timedelta(days=amount)).astimezone(deadline.tzinfo)


def believable_received(stamp: datetime, delivered: datetime) -> bool:
    """Whether a Received: date can be our server's stamp for a file delivered at ``delivered``."""
    return delivered - RECEIVED_BEFORE_DELIVERY <= stamp <= delivered + RECEIVED_AFTER_DELIVERY


def receipt_time_holds(received_at: datetime, opens: datetime, collected_at: datetime) -> list[str]:
    """Danish reasons to hold a response whose receipt time cannot be right (none when it can).

    Before the round opened: nobody had been invited yet, so the time (or the message) is wrong.
    After the collect that fetched it: a clock or a header is lying.
    """
    holds: list[str] = []
    if received_at < opens:
        holds.append(
            f"Modtagelsestidspunktet {short_datetime(received_at)} ligger før høringen åbnede "
            f"({short_datetime(opens)}) – tælles ikke, før det medtages"
        )
    if received_at > collected_at + FUTURE_SKEW:
        holds.append(
            f"Modtagelsestidspunktet {short_datetime(received_at)} ligger i fremtiden (indsamlet "
            f"{short_datetime(collected_at)}) – tælles ikke, før det medtages"
        )
    return holds
