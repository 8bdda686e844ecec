"""Danish words for counts and periods, as the reference note writes them."""

from __future__ import annotations

from datetime import datetime

import pytest

from flows.core.danish import deadline_text, number_words, period_text, responses_phrase


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "ét skriftligt høringssvar"),
        (2, "to skriftlige høringssvar"),
        (5, "fem skriftlige høringssvar"),
        (12, "tolv skriftlige høringssvar"),
        (21, "enogtyve skriftlige høringssvar"),
        (0, "ingen skriftlige høringssvar"),
    ],
)
def test_count_in_words(count: int, expected: str) -> None:
    """The count of responses is written in words with the right grammar."""
    assert responses_phrase(count) == expected


def test_larger_numbers() -> None:
    """Tens, hundreds, and digits from a thousand."""
    assert number_words(99) == "nioghalvfems"
    assert number_words(100) == "et hundrede"
    assert number_words(121) == "et hundrede og enogtyve"
    assert number_words(6500) == "6.500"


def test_period_in_danish_words() -> None:
    """The period as in the reference: weekday, day and month, "til og med"."""
    opens = datetime.fromisoformat("2025-10-16T00:00:00+02:00")
    deadline = datetime.fromisoformat("2025-10-24T23:59:59+02:00")

    assert period_text(opens, deadline) == "torsdag den 16. oktober til og med fredag den 24. oktober"


def test_period_ending_at_midnight_ends_the_day_before() -> None:
    """A deadline at 00:00 closes the previous day; years are shown when they differ."""
    opens = datetime.fromisoformat("2025-12-15T00:00:00+01:00")
    deadline = datetime.fromisoformat("2026-01-10T00:00:00+01:00")

    assert period_text(opens, deadline) == "mandag den 15. december 2025 til og med fredag den 9. januar 2026"


def test_deadline_written_out_in_copenhagen_time() -> None:
    """A UTC deadline is shown in Copenhagen time, the Danish way."""
    deadline = datetime.fromisoformat("2025-10-24T21:59:00+00:00")

    assert deadline_text(deadline) == "fredag den 24. oktober 2025 kl. 23.59"
