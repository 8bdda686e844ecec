"""The numbers a case worker follows: responses 1, 2, 3 … in order of receipt, in every output.

The database numbers every incoming item as it arrives, bounces and auto-replies too, and that
number is the item's reference (``ROUND-0007``) for good: it is what a set-aside item, ``trace``
and the case file name. The log, the note and the combined PDF show the counted responses
numbered afresh from 1 instead, so the bundle does not begin at "3." and skip 4 and 6. A remark
keeps its stable reference (``ROUND-0007.1``) in the log's ``Bemærkninger``, so what staff type
there is matched to the right remark however the numbers shift when an item is included later.
"""

from __future__ import annotations

from dataclasses import replace

from flows.core.assembly import Assembly


def remark_reference(response_reference: str, remark_number: str) -> str:
    """``ROUND-0007`` and stored remark ``7.2`` → ``ROUND-0007.2``."""
    return f"{response_reference}.{remark_number.partition('.')[2] or '1'}"


def stored_number(reference: str) -> int | None:
    """``ROUND-0007`` → 7 (the number ingest stored); None for anything else."""
    number = reference.strip().rpartition("-")[2]
    return int(number) if number.isdigit() else None


def stored_remark_number(reference: str) -> str | None:
    """``ROUND-0007.2`` → ``7.2``; None for anything else."""
    head, _, position = reference.strip().rpartition(".")
    number = head.rpartition("-")[2]
    if not (number.isdigit() and position.isdigit()):
        return None
    return f"{int(number)}.{int(position)}"


def renumber(assembly: Assembly) -> Assembly:
    """The same assembly with responses numbered 1 … n in order of receipt, and remarks with them."""
    order = sorted(assembly.responses, key=lambda r: (r.received_at, r.number))
    shown = {r.number: i for i, r in enumerate(order, start=1)}
    references = {r.number: r.reference for r in assembly.responses}
    remark_numbers: dict[str, str] = {}
    remarks = []
    for m in assembly.remarks:
        position = m.number.partition(".")[2] or "1"
        number = f"{shown[m.response_number]}.{position}"
        remark_numbers[m.number] = number
        reference = remark_reference(references[m.response_number], m.number)
        remarks.append(
            replace(m, number=number, response_number=shown[m.response_number], reference=reference)
        )
    responses = [replace(r, number=shown[r.number]) for r in assembly.responses]
    notes = {remark_numbers[k]: note for k, note in assembly.notes.items() if k in remark_numbers}
    return replace(assembly, responses=responses, remarks=remarks, notes=notes)
