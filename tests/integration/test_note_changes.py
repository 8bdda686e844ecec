"""What staff wrote in `Ændring i udkastet` reaches the note, even with `Giver anledning til ændring` empty."""

from __future__ import annotations

from pathlib import Path

import docx

from flows.adapters.word_note import write_note
from flows.core.assembly import StaffNote
from tests.factories import make_assembly

CHANGES_INTRO = "Høringen har givet anledning til følgende ændringer i udkastet:"


def _paragraphs(tmp_path: Path, notes: dict[str, StaffNote]) -> list[str]:
    assembly = make_assembly(notes=notes)
    path = tmp_path / f"{assembly.round.id}-hoeringsnotat.docx"
    write_note(assembly, path)
    return [p.text for p in docx.Document(str(path)).paragraphs]


def test_a_written_change_without_the_mark_is_a_change_shown_with_its_remark(tmp_path: Path) -> None:
    notes = {
        "1.1": StaffNote(
            reply="Forvaltningen retter strategien.", change="Brugerorganisationer tilføjet på side 7."
        ),
        "2.1": StaffNote(reply="Tages til efterretning.", change="Formålet præciseret.", gives_change="Nej"),
    }
    texts = _paragraphs(tmp_path, notes)
    assert "Ændring i udkastet: Brugerorganisationer tilføjet på side 7." in texts
    # with its remark: right after the reply to remark 1.1, before the next party's heading
    reply = texts.index("Forvaltningen retter strategien.")
    assert texts[reply + 1] == "Ændring i udkastet: Brugerorganisationer tilføjet på side 7."
    listed = texts[texts.index(CHANGES_INTRO) + 1 :]
    assert "SAND Hovedstaden (bemærkning 1.1): Brugerorganisationer tilføjet på side 7." in listed
    # staff who answered Nej decided it is no change to the draft
    assert not any("Formålet præciseret" in t for t in texts)


def test_a_change_without_a_reply_keeps_the_placeholder_and_shows_the_change(tmp_path: Path) -> None:
    texts = _paragraphs(tmp_path, {"1.1": StaffNote(change="Side 4: åbningstider tilføjet.")})
    shown = texts.index("Ændring i udkastet: Side 4: åbningstider tilføjet.")
    assert texts[shown - 1].startswith("[Udkast – skal gennemses]")
    assert any(
        t.endswith("Side 4: åbningstider tilføjet.") and "bemærkning 1.1" in t for t in texts[shown + 1 :]
    )
