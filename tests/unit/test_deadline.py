"""Lateness is judged by our receipt time against the deadline, to the second."""

from __future__ import annotations

from datetime import datetime

from flows.core.deadline import effective_deadline, is_late, reminder_due_at


def test_deadline_second_is_on_time_and_the_next_is_late() -> None:
    """23:59:59 is on time; 00:00:00 the next day is late."""
    deadline = datetime.fromisoformat("2025-10-24T23:59:59+02:00")

    assert not is_late(datetime.fromisoformat("2025-10-24T23:59:59+02:00"), deadline)
    assert is_late(datetime.fromisoformat("2025-10-25T00:00:00+02:00"), deadline)


def test_deadline_right_after_daylight_saving_change() -> None:
    """The night of the change to winter time (26 October 2025): wall-clock offsets are honoured."""
    deadline = datetime.fromisoformat("2025-10-26T23:59:59+01:00")

    assert not is_late(datetime.fromisoformat("2025-10-26T22:59:59+00:00"), deadline)
    assert is_late(datetime.fromisoformat("2025-10-26T23:00:00+00:00"), deadline)
    assert is_late(datetime.fromisoformat("2025-10-27T00:00:00+01:00"), deadline)


def test_a_party_extension_moves_its_deadline() -> None:
    """A party's own later deadline is used; an earlier one is ignored."""
    deadline = datetime.fromisoformat("2025-10-24T23:59:59+02:00")
    later = datetime.fromisoformat("2025-10-31T12:00:00+01:00")

    assert effective_deadline(deadline, later) == later
    assert effective_deadline(deadline, None) == deadline
    assert not is_late(
        datetime.fromisoformat("2025-10-30T10:00:00+01:00"), effective_deadline(deadline, later)
    )


def test_reminder_offsets() -> None:
    """ "3d" falls due three days before the deadline, "12h" twelve hours before."""
    deadline = datetime.fromisoformat("2025-10-24T23:59:59+02:00")

    assert reminder_due_at(deadline, "3d") == datetime.fromisoformat("2025-10-21T23:59:59+02:00")
    assert reminder_due_at(deadline, "12h") == datetime.fromisoformat("2025-10-24T11:59:59+02:00")


def test_day_reminders_keep_the_clock_time_across_daylight_saving() -> None:
    """ "3d" before a deadline just after the change to winter time is at the same wall-clock time."""
    deadline = datetime.fromisoformat("2025-10-27T12:00:00+01:00")

    due = reminder_due_at(deadline, "3d")

    assert due == datetime.fromisoformat("2025-10-24T12:00:00+02:00")
