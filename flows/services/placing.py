"""The draft's sections and every remark's place in them (`Afsnit`, `Placeret ud fra`).

* ``read_round_sections``: when a round is opened, its documents' sections are read and stored.
* ``prepare_placements``: before ``assemble`` writes, the `Afsnit` staff chose in the log is
  saved, and every remark not yet placed is placed (a response on several sections is first split
  into one remark per group of paragraphs, while nobody has written on its remarks yet).
* ``with_placements``: the assembly's remarks get their section's label and how it was found.

The rules themselves are ``flows.core.placement``; the SQL is ``uow.sections``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

from flows.adapters.db.sections import SectionRepository, UnplacedRemark
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.draft_sections import read_sections
from flows.adapters.excel_sections import read_section_choices
from flows.bootstrap import App
from flows.core.assembly import Assembly
from flows.core.errors import LogEditConflictError
from flows.core.numbering import stored_remark_number
from flows.core.placement import Basis, Placement, SectionIndex, basis_text, label_of, place, split_by_section
from flows.core.sections import GENERAL, Section, choosable, number_key, unique_labels

log = logging.getLogger(__name__)

REMARKS_SHEET, NUMBER = "Bemærkninger", "Nr."


def read_round_sections(
    store: SectionRepository, round_id: str, source_dir: str, documents: Sequence[str]
) -> int:
    """Read and store the sections of the round's documents; returns how many were found."""
    found = read_sections([Path(source_dir) / name for name in documents])
    if store.replace(round_id, found.sections):
        log.info("round %s: %d sections read from its documents", round_id, len(found.sections))
    for problem in found.problems:
        log.warning("round %s: %s", round_id, problem)
    return len(found.sections)


def _sections(uow: UnitOfWork, round_id: str, source_dir: str, documents: Sequence[str]) -> list[Section]:
    """The stored sections; a round opened before sections were read has them read now."""
    sections = uow.sections.load(round_id)
    if not sections and documents:
        read_round_sections(uow.sections, round_id, source_dir, documents)
        sections = uow.sections.load(round_id)
    return sections


def prepare_placements(app: App, round_id: str, log_path: Path) -> int:
    """Save staff's `Afsnit` choices from the log, then place every remark not placed yet.

    Raises LogEditConflictError (and saves no choice) when a typed `Afsnit` names no section.
    Returns the number of remarks placed now.
    """
    typed = read_section_choices(log_path, REMARKS_SHEET, NUMBER)
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        sections = _sections(uow, round_id, rnd.source_dir, rnd.documents)
        if not sections:
            return 0
        labels = dict(zip((s.position for s in sections), unique_labels(sections), strict=True))
        if choosable(sections):  # a draft without sections of its own has nothing to choose among
            _absorb_choices(app, uow, round_id, log_path, typed, labels)
        return _place_new(app, uow, round_id, SectionIndex(sections))


def _absorb_choices(
    app: App, uow: UnitOfWork, round_id: str, log_path: Path, typed: dict[str, str], labels: dict[int, str]
) -> None:
    if not typed:
        return
    stored = uow.sections.placements(round_id)
    by_label = {label.casefold(): position for position, label in labels.items()}
    by_number = {number_key(label.split(" ", 1)[0]): p for p, label in labels.items()}
    problems: list[str] = []
    chosen: dict[str, tuple[int | None, str]] = {}
    for number, value in typed.items():
        placement = stored.get(number)
        if placement is None or value == label_of(placement, labels):
            continue
        if not value or value.casefold() == GENERAL.casefold():
            chosen[number] = (None, GENERAL)
        elif (position := by_label.get(value.casefold(), by_number.get(number_key(value)))) is not None:
            chosen[number] = (position, labels[position])
        else:
            problems.append(
                f"»{REMARKS_SHEET}« Nr. {number}: Afsnit »{value}« er ikke et af udkastets afsnit"
            )
    if problems:
        raise LogEditConflictError(str(log_path), problems)
    for number, (position, label) in chosen.items():
        uow.sections.set_staff_choice(round_id, number, position, label, app.now())
    if chosen:
        uow.events.add(round_id, "assemble", "sections_chosen", remarks=len(chosen))


def _place_new(app: App, uow: UnitOfWork, round_id: str, index: SectionIndex) -> int:
    unplaced = uow.sections.unplaced_remarks(round_id)
    if not unplaced:
        return 0
    by_response: dict[int, list[UnplacedRemark]] = {}
    for remark in unplaced:
        by_response.setdefault(remark.response_id, []).append(remark)
    totals = uow.sections.remark_counts(round_id, set(by_response))
    written_on = uow.sections.responses_with_staff_text(round_id, set(by_response))
    placed: dict[str, Placement] = {}
    split = 0
    for response_id, remarks in by_response.items():
        may_split = response_id not in written_on and totals.get(response_id) == len(remarks)
        pieces = _pieces(remarks, index, may_split=may_split)
        if len(pieces) > len(remarks):
            rows = _renumbered(pieces)
            uow.sections.replace_remarks(round_id, response_id, [r for r, _ in rows])
            placed.update({r.number: p for r, p in rows})
            split += 1
        else:
            placed.update({r.number: p for r, p in pieces})
    uow.sections.save_placements(round_id, placed, app.now())
    uow.events.add(round_id, "assemble", "placed", remarks=len(placed), split_responses=split)
    return len(placed)


def _pieces(
    remarks: list[UnplacedRemark], index: SectionIndex, *, may_split: bool
) -> list[tuple[UnplacedRemark, Placement]]:
    pieces: list[tuple[UnplacedRemark, Placement]] = []
    for remark in remarks:
        own_column = remark.section.strip() and not remark.section.startswith("Bilag:")
        if own_column or not may_split:
            pieces.append((remark, place(remark.text, index, remark.section)))
            continue
        for text, placement in split_by_section(remark.text, index):
            pieces.append((dataclasses.replace(remark, text=text), placement))
    return pieces


def _renumbered(
    pieces: list[tuple[UnplacedRemark, Placement]],
) -> list[tuple[UnplacedRemark, Placement]]:
    """The response's remarks numbered 1, 2, 3 … again (nobody has seen the old numbers)."""
    prefix = pieces[0][0].number.rsplit(".", 1)[0]
    return [
        (dataclasses.replace(r, number=f"{prefix}.{i}", position=i), p)
        for i, (r, p) in enumerate(pieces, start=1)
    ]


def with_placements(app: App, assembly: Assembly) -> Assembly:
    """The assembly with each remark's `Afsnit` and `Placeret ud fra`, and the draft's sections
    (its remarks list is updated in place)."""
    round_id = assembly.round.id
    with app.uow() as uow:
        sections = uow.sections.load(round_id)
        stored = uow.sections.placements(round_id) if sections else {}
    if not sections:
        return assembly
    labels = dict(zip((s.position for s in sections), unique_labels(sections), strict=True))
    own_sections = choosable(sections)  # else a template's own `Afsnit` stays as the party wrote it
    texts = {
        basis: basis_text(Placement(None, basis)) for basis in (Basis.STAFF, Basis.GENERAL, Basis.SINGLE)
    }
    remarks = assembly.remarks  # changed in place: a national round's remarks are not copied
    for index, m in enumerate(remarks):
        p = stored.get(stored_remark_number(m.reference) or m.number if m.reference else m.number)
        if p is None:
            continue
        shown = texts[p.basis] if p.basis in texts else basis_text(p)
        section = label_of(p, labels) if own_sections else m.section
        remarks[index] = dataclasses.replace(m, section=section, placed_by=shown, placed_at=p.section)
    return dataclasses.replace(assembly, remarks=remarks, sections=tuple(sections))
