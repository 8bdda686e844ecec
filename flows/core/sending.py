"""What to do with an outbox row after one send attempt (intake-reliability.md §3.5, §6 cases 9-12).

Pure: the caller passes the clock and the random source, so a replay or a test is deterministic.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from flows.core.model import OutboxState, SendResult

BACKOFF_BASE_SECONDS = 60.0
BACKOFF_FACTOR = 2.0
BACKOFF_CAP_SECONDS = 3600.0
# An ambiguous send ("unknown": cut after DATA) is re-sent with the same Message-ID; a
# recipient may then see it twice, so it gets fewer tries than a plain 4xx.
MAX_UNKNOWN_ATTEMPTS = 3


def backoff(attempts: int, rng: random.Random) -> timedelta:
    """Exponential backoff with "equal jitter": half fixed, half random, capped at an hour."""
    delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * BACKOFF_FACTOR ** max(0, attempts - 1))
    return timedelta(seconds=delay / 2 + rng.uniform(0, delay / 2))


def next_attempt(
    result: SendResult,
    attempts: int,
    *,
    max_attempts: int,
    now: datetime,
    rng: random.Random,
) -> tuple[OutboxState, datetime | None, bool]:
    """(new state, when to try again or None, possible duplicate) after ``attempts`` tries."""
    if result.state == "sent":
        return OutboxState.SENT, None, False
    if result.state == "perm_failed":
        return OutboxState.PERM_FAILED, None, False
    if result.state == "unknown":
        if attempts >= min(max_attempts, MAX_UNKNOWN_ATTEMPTS):
            return OutboxState.PERM_FAILED, None, True
        return OutboxState.TEMP_FAILED, now + backoff(attempts, rng), True
    # "temp_failed" and anything unexpected: retry, but never for ever
    if attempts >= max_attempts:
        return OutboxState.PERM_FAILED, None, False
    return OutboxState.TEMP_FAILED, now + backoff(attempts, rng), False
