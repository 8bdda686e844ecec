"""The outbox sending policy: backoff, attempt caps and the ambiguous "unknown" (§6 cases 9-12)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from flows.adapters.ports import SendResult
from flows.core.model import OutboxState
from flows.core.sending import BACKOFF_CAP_SECONDS, MAX_UNKNOWN_ATTEMPTS, backoff, next_attempt

NOW = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)


def _next(state: str, attempts: int, max_attempts: int = 5) -> tuple[OutboxState, datetime | None, bool]:
    return next_attempt(
        SendResult(state, 0), attempts, max_attempts=max_attempts, now=NOW, rng=random.Random(7)
    )


def test_sent_is_final() -> None:
    """A 2xx is sent, with no retry and no duplicate flag."""
    assert _next("sent", 1) == (OutboxState.SENT, None, False)


def test_perm_failed_is_final() -> None:
    """A 5xx is perm_failed at once."""
    assert _next("perm_failed", 1) == (OutboxState.PERM_FAILED, None, False)


def test_temp_failed_backs_off_then_gives_up() -> None:
    """A 4xx retries later until max_attempts, then becomes perm_failed."""
    state, when, dup = _next("temp_failed", 1)
    assert state == OutboxState.TEMP_FAILED and when is not None and not dup
    assert timedelta(seconds=30) <= when - NOW <= timedelta(seconds=60)
    assert _next("temp_failed", 5) == (OutboxState.PERM_FAILED, None, False)


@pytest.mark.parametrize("attempts", [1, 2, 3, 4, 6, 10, 30])
def test_backoff_grows_and_is_capped(attempts: int) -> None:
    """Delay is 60 s × 2^(n-1), half of it jittered, never above an hour."""
    delay = min(BACKOFF_CAP_SECONDS, 60 * 2 ** (attempts - 1))
    for seed in range(20):
        got = backoff(attempts, random.Random(seed)).total_seconds()
        assert delay / 2 <= got <= delay <= BACKOFF_CAP_SECONDS


def test_jitter_differs_between_rows() -> None:
    """Two rows failing together do not retry in lockstep."""
    rng = random.Random(3)
    assert len({backoff(3, rng) for _ in range(10)}) > 1


def test_unknown_is_retried_as_possible_duplicate_and_bounded() -> None:
    """A cut after DATA retries (same Message-ID, by the caller) flagged as possible duplicate, a bounded number of times."""
    state, when, dup = _next("unknown", 1)
    assert state == OutboxState.TEMP_FAILED and when is not None and dup
    assert _next("unknown", MAX_UNKNOWN_ATTEMPTS) == (OutboxState.PERM_FAILED, None, True)
    assert _next("unknown", 2, max_attempts=2)[0] == OutboxState.PERM_FAILED
