"""The by-section note's gate: every counted remark appears exactly once, and is named when not."""

from __future__ import annotations

import dataclasses

from flows.adapters.word_note import compose
from flows.core.assembly import Assembly
from flows.core.model import NoteLayout
from flows.core.quality import remarks_once
from flows.core.sections import Section
from tests.factories import make_round, remark, response

SECTIONS = (
    Section(1, "1", "Indledning", 1, 1, "Baggrund"),
    Section(2, "2", "Økonomi", 1, 2, "Puljen"),
    Section(3, "2.1", "Tilskud", 2, 3, "Driftstilskud"),
)


def _assembly() -> Assembly:
    a = response(1, "Røde Kors Hovedstaden", "Puljen er for lille.\n\nIndledningen er fin.")
    b = response(2, "WeShelter", "Puljen er for lille, også for os.")
    c = response(3, "Kirkens Korshær", "Tak for et godt udkast.")
    remarks = [
        dataclasses.replace(remark(a, 1, text="Puljen er for lille."), placed_at=2),
        dataclasses.replace(remark(a, 2, text="Indledningen er fin."), placed_at=1),
        dataclasses.replace(remark(b, 1), placed_at=2),
        dataclasses.replace(remark(c, 1), placed_at=None),
    ]
    rnd = dataclasses.replace(make_round(), note_layout=NoteLayout.BY_SECTION)
    return Assembly(rnd, a.received_at, [], [a, b, c], remarks, [], sections=SECTIONS)


def test_the_note_by_sections_shows_each_remark_once_in_the_drafts_order() -> None:
    """Generelt, then section 1 and section 2 (2.1 had no remark); each remark once; the gate is content."""
    paras, facts, _ = compose(_assembly())
    texts = ["".join(r.text for r in p.runs) for p in paras]
    headings = [t for p, t in zip(paras, texts, strict=True) if p.style == "Heading2"]
    assert headings[:3] == ["Generelle bemærkninger", "1 Indledning", "2 Økonomi"]
    assert "Røde Kors Hovedstaden og WeShelter har bemærkninger til afsnittet." in texts
    assert sorted(facts.remarks_shown or ()) == ["1.1", "1.2", "2.1", "3.1"]
    assert remarks_once(_assembly(), facts.remarks_shown or ()) == []


def test_a_remark_left_out_or_shown_twice_is_named() -> None:
    """The gate names the remark a note lost, the one it repeats, and one it quotes that is not counted."""
    problems = remarks_once(_assembly(), ["1.1", "1.1", "2.1", "3.1", "9.1"])
    assert problems == [
        "1 bemærkning mangler i notatet: nr. 1.2",
        "bemærkning nr. 1.1 står flere gange i notatet",
        "notatet citerer bemærkning nr. 9.1, som ikke er talt med",
    ]
