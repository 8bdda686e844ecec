"""Shown numbers 1 … n in order of receipt; stored numbers stay the references staff edits follow."""

from __future__ import annotations

from flows.core.numbering import remark_reference, shown_remark_number, stored_remark_number


def test_stored_numbers_survive_the_round_trip_through_a_reference() -> None:
    assert remark_reference("sof-2025-0007", "7.2") == "sof-2025-0007.2"
    assert stored_remark_number("sof-2025-0007.2") == "7.2"
    assert stored_remark_number("7.2") == "7.2"  # a log whose Reference holds the stored number
    assert stored_remark_number("sof-2025-0007") is None
    assert stored_remark_number("") is None


def test_a_remark_is_shown_under_its_responses_shown_number_in_its_place() -> None:
    assert shown_remark_number(3, "7.2") == "3.2"
    assert shown_remark_number(1, "12") == "1.1"  # a stored number without a place is the first
