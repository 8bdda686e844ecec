"""The deadline, judged by the time our own server received a message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flows.core.danish import COPENHAGEN


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
