"""The assembly read of a large round: one pass, no second copy of the lines, remarks in order.

Run on the fake unit of work, with rows put straight into it (thousands of them: ingesting that
many through the service would be slow), so the allocations ``tracemalloc`` counts are the
read's own and the same on every run (no timing, no process RSS).
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from flows.adapters.text_spill import TextSpill
from flows.bootstrap import App
from flows.core.assembly import StaffNote
from flows.core.model import Channel, Kind
from flows.services import assembling
from flows.services.assembly_read import read_counted
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import OPENS, ROUND

RESPONSES = 3_000
REMARKS_EACH = 2


def _fill(uow: FakeUnitOfWork, party_id: int) -> None:
    """Responses received in an order unlike their numbers, two remarks each stored backwards."""
    repo = uow.responses
    for i in range(RESPONSES):
        row_id = 10_000 + i
        number = 100 + (i * 7919) % RESPONSES  # numbers do not follow receipt
        repo.rows[row_id] = {
            "id": row_id,
            "round_id": ROUND.id,
            "number": number,
            "reference": f"{ROUND.id}-{number:04d}",
            "party_id": party_id,
            "sender": f"svar{i}@forening.example",
            "sender_display": "",
            "received_at": OPENS + timedelta(minutes=i),
            "channel": Channel.EMAIL.value,
            "late": False,
            "subject": f"Høringssvar nr. {i}",
            "text": f"Svar {i}: vi ønsker stien flyttet {i} meter mod nord, og træerne bevaret.",
            "full_text": "",
            "no_remarks": False,
            "kind": Kind.RESPONSE.value,
            "decision": None,
            "verified": "pass",
            "held": False,
            "review_reason": None,
            "message_id": f"<{i}@forening.example>",
            "raw_message_id": None,
        }
        for position in range(REMARKS_EACH, 0, -1):
            repo.remark_rows.append(
                {
                    "round_id": ROUND.id,
                    "response_id": row_id,
                    "number": f"{number}.{position}",
                    "position": position,
                    "section": "§ 3",
                    "text": f"Bemærkning {position} til svar {i}",
                    "proposal": "",
                }
            )


def test_responses_and_remarks_are_numbered_in_receipt_order(app: App, uow: FakeUnitOfWork) -> None:
    party = next(iter(uow.rounds.party_entries(ROUND.id).values()))
    _fill(uow, party.id)
    assembly = assembling.build_assembly(app, ROUND.id)
    assert [r.number for r in assembly.responses] == list(range(1, RESPONSES + 1))
    assert [r.subject for r in assembly.responses[:3]] == [f"Høringssvar nr. {i}" for i in range(3)]
    first = assembly.responses[0]
    assert [(m.number, m.response_number, m.reference) for m in assembly.remarks[:2]] == [
        ("1.1", 1, f"{first.reference}.1"),
        ("1.2", 1, f"{first.reference}.2"),
    ]
    assert [m.text for m in assembly.remarks[:2]] == ["Bemærkning 1 til svar 0", "Bemærkning 2 til svar 0"]
    assert len(assembly.remarks) == RESPONSES * REMARKS_EACH
    assert [p.responses for p in assembly.parties if p.name == party.name] == [RESPONSES]


class _Once:
    """An iterator that fails the test if anyone asks for it a second time."""

    def __init__(self, items: Iterator[Any]) -> None:
        self.items, self.taken = items, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.taken += 1
        assert self.taken == 1, "read twice"
        return self.items


def test_the_read_never_holds_a_second_copy_of_the_lines(app: App, uow: FakeUnitOfWork) -> None:
    """Each stream is read once, and the finished assembly keeps its lines on disk, not in memory:
    as slotted objects with their strings, dates and handles they set
    ``assemble``'s memory at 1,000,000 messages; spilled, a line costs its place (16 bytes)."""
    assembling.build_assembly(app, ROUND.id)  # the modules it imports on first use are not its data
    party = next(iter(uow.rounds.party_entries(ROUND.id).values()))
    _fill(uow, party.id)
    repo = uow.responses
    # the fake's own sorting is done before the count starts: only the read's allocations count
    counted = _Once(iter(list(repo.counted(ROUND.id))))
    remarks = _Once(iter(list(repo.counted_remarks(ROUND.id))))
    repo.counted, repo.counted_remarks = counted, remarks  # type: ignore[method-assign]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        assembly = assembling.build_assembly(app, ROUND.id)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(assembly.responses) == RESPONSES
    assert counted.taken == remarks.taken == 1
    lines = len(assembly.responses) + len(assembly.remarks)
    # measured on 3,000 responses and 6,000 remarks: 45 bytes a line (its place, the texts'
    # places for grouping, the ids); held in memory they took about 800 bytes a line (a
    # 20,000-message round: 26 MB for 6,914 responses, 13,433 remarks and 12,199 review items)
    assert held - before < 64 * lines, (held - before, lines)
    assert peak > held  # the read did run under the tracer


def test_staff_notes_follow_their_remark_to_its_shown_number(app: App, uow: FakeUnitOfWork, tmp_path) -> None:
    party = next(iter(uow.rounds.party_entries(ROUND.id).values()))
    _fill(uow, party.id)
    first, later = 100, 100 + (5 * 7919) % RESPONSES  # stored numbers of the 1st and 6th received
    notes = {
        f"{first}.2": StaffNote(reply="Taget til efterretning."),
        f"{later}.1": StaffNote(change="Ret § 3."),
    }
    parties = uow.rounds.party_entries(ROUND.id)
    read = read_counted(uow, ROUND.id, parties, TextSpill(tmp_path), notes)
    assert read.notes == {"1.2": notes[f"{first}.2"], "6.1": notes[f"{later}.1"]}
    shown = {m.number: m.reference for m in read.remarks}
    assert shown["1.2"] == f"{ROUND.id}-{first:04d}.2" and shown["6.1"] == f"{ROUND.id}-{later:04d}.1"
