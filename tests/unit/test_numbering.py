"""Shown numbers 1 … n in order of receipt; stored numbers stay the references staff edits follow."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from flows.core.assembly import StaffNote
from flows.core.numbering import remark_reference, renumber, stored_remark_number
from tests.factories import make_assembly


def test_stored_numbers_survive_the_round_trip_through_a_reference() -> None:
    assert remark_reference("sof-2025-0007", "7.2") == "sof-2025-0007.2"
    assert stored_remark_number("sof-2025-0007.2") == "7.2"
    assert stored_remark_number("7.2") == "7.2"  # a log whose Reference holds the stored number
    assert stored_remark_number("sof-2025-0007") is None
    assert stored_remark_number("") is None


def test_gaps_close_in_order_of_receipt_and_notes_follow_their_remark() -> None:
    base = make_assembly()
    first, second = base.responses[0], base.responses[1]
    # stored as 3 and 6 (a bounce and an auto-reply took 1, 2, 4, 5), the second received first
    responses = [
        dataclasses.replace(first, number=6, received_at=second.received_at + timedelta(hours=1)),
        dataclasses.replace(second, number=3),
    ]
    remarks = [
        dataclasses.replace(
            m,
            number=f"{6 if m.response_number == first.number else 3}.1",
            response_number=6 if m.response_number == first.number else 3,
        )
        for m in base.remarks
        if m.response_number in (first.number, second.number)
    ]
    notes = {"6.1": StaffNote(reply="Svar til den senest modtagne.")}
    shown = renumber(dataclasses.replace(base, responses=responses, remarks=remarks, notes=notes))
    assert [(r.number, r.reference) for r in shown.responses] == [(2, first.reference), (1, second.reference)]
    by_party = {m.party: m for m in shown.remarks}
    assert by_party[first.party].number == "2.1"
    assert by_party[first.party].reference == f"{first.reference}.1"
    assert shown.notes == {"2.1": StaffNote(reply="Svar til den senest modtagne.")}
