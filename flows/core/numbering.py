"""The numbers a case worker follows: responses 1, 2, 3 … in order of receipt, in every output.

The database numbers every incoming item as it arrives, bounces and auto-replies too, and that
number is the item's reference (``ROUND-0007``) for good: it is what a set-aside item, ``trace``
and the case file name. The log, the note and the combined PDF show the counted responses
numbered afresh from 1 instead, so the bundle does not begin at "3." and skip 4 and 6. A remark
keeps its stable reference (``ROUND-0007.1``) in the log's ``Bemærkninger``, so what staff type
there is matched to the right remark however the numbers shift when an item is included later.
"""

from __future__ import annotations


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


def shown_remark_number(shown_response: int, stored_remark: str) -> str:
    """Stored remark ``7.2`` of the response shown as 3 → ``3.2``: a remark keeps its place, not its number."""
    return f"{shown_response}.{stored_remark.partition('.')[2] or '1'}"
