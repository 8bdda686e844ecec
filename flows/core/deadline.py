"""The deadline, judged by the time our own server received a message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta


def effective_deadline(round_deadline: datetime, party_extension: datetime | None) -> datetime:
    """A party's own deadline when it has been extended beyond the round's."""
    if party_extension is not None and party_extension > round_deadline:
        return party_extension
    return round_deadline


def is_late(received_at: datetime, deadline: datetime) -> bool:
    """Late means strictly after the deadline; the deadline second itself is on time."""
    return received_at > deadline


def reminder_due_at(deadline: datetime, offset: str) -> datetime:
    """When a reminder with offset like "3d" or "12h" falls due."""
    match = re.fullmatch(r"(\d+)([dh])", offset)
    if match is None:
        msg = f"bad reminder offset {offset!r}"
        raise ValueError(msg)
    amount, unit = int(match.group(1)), match.group(2)
    return deadline - (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
