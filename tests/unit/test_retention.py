"""The deletion date and the purge's verdict: close + retention on the Copenhagen calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.core.retention import (
    Duration,
    RoundRecord,
    Verdict,
    deletion_date,
    parse_duration,
    verdict,
    verdict_reason,
)

CLOSED = datetime(2025, 10, 25, 7, 0, tzinfo=UTC)  # 09.00 in Copenhagen (summer time)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P5Y", Duration(years=5)),
        ("p18m", Duration(months=18)),
        ("P1Y6M2W3D", Duration(years=1, months=6, days=17)),
        ("PT36H", Duration(seconds=36 * 3600)),
    ],
)
def test_durations_parse(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "5Y", "PT", "P1.5Y", "P5Y junk"])
def test_what_is_no_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_duration(text)


def test_the_date_keeps_the_copenhagen_wall_clock_across_dst() -> None:
    """Closed 25 Oct 2025 09.00 (+02:00): deleted 25 Oct 2030 09.00 local; P1Y lands in winter time."""
    assert deletion_date(CLOSED, "P5Y") == datetime.fromisoformat("2030-10-25T09:00:00+02:00")
    winter = deletion_date(CLOSED, "P1Y")  # 25 Oct 2026 is after that year's change to winter time
    assert winter is not None and winter.isoformat() == "2026-10-25T09:00:00+01:00"
    assert deletion_date(None, "P5Y") is None  # an open round: the clock has not started


def test_a_leap_day_plus_a_year_is_the_last_of_february() -> None:
    leap = datetime.fromisoformat("2028-02-29T12:00:00+01:00")
    assert deletion_date(leap, "P1Y") == datetime.fromisoformat("2029-02-28T12:00:00+01:00")
    assert deletion_date(leap, "P1M") == datetime.fromisoformat("2028-03-29T12:00:00+02:00")


def record(**changes: object) -> RoundRecord:
    base = {
        "round_id": "r",
        "closed_at": CLOSED,
        "retention": "P5Y",
        "last_change": CLOSED + timedelta(days=1),
        "last_export": CLOSED + timedelta(days=2),
        "purged_at": None,
    }
    return RoundRecord(**{**base, **changes})  # type: ignore[arg-type]


DUE = datetime(2030, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "now", "expected"),
    [
        ({}, DUE, Verdict.PURGE),
        ({}, datetime(2030, 10, 25, 6, 59, tzinfo=UTC), Verdict.NOT_DUE),  # a minute before the date
        ({"closed_at": None}, DUE, Verdict.NOT_DUE),
        ({"last_export": None}, DUE, Verdict.NOT_EXPORTED),
        ({"last_export": CLOSED}, DUE, Verdict.CHANGED_SINCE_EXPORT),
        ({"purged_at": DUE}, DUE, Verdict.ALREADY_PURGED),
    ],
)
def test_archive_before_delete(changes: dict[str, object], now: datetime, expected: Verdict) -> None:
    item = record(**changes)
    assert verdict(item, now) is expected
    if expected is not Verdict.PURGE:
        assert verdict_reason(item, expected)  # every round left whole says why
