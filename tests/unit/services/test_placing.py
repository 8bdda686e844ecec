"""Placing remarks through the fake unit of work: by the section a remark names, split when a
response takes up several sections, and staff's `Afsnit` in the log kept over every rerun."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from flows.adapters.db.sections import UnplacedRemark
from flows.core.errors import LogEditConflictError
from flows.core.placement import Basis, Placement
from flows.core.sections import Section
from flows.services.placing import prepare_placements
from tests.unit.services.conftest import World

SECTIONS = [
    Section(1, "§ 1", "Formål", 1, 1, "Formålet med strategien er et bedre hverdagsliv.", "udkast.pdf"),
    Section(2, "§ 2", "Økonomi", 1, 2, "Budgettet for ældreplejen og takster for madservice.", "udkast.pdf"),
]


def remark(response_id: int, number: str, text: str, section: str = "") -> UnplacedRemark:
    return UnplacedRemark(response_id, number, int(number.rsplit(".", 1)[1]), section, text, "")


def log_with(path: Path, choices: dict[str, str]) -> Path:
    """A log whose `Bemærkninger` sheet holds staff's `Afsnit` per remark number."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Bemærkninger"
    sheet.append(["Nr.", "Afsnit", "Placeret ud fra"])
    for number, section in choices.items():
        sheet.append([number, section, "Henvisning"])
    book.save(path)
    return path


@pytest.fixture
def placed_world(world: World) -> World:
    world.round()
    world.uow.sections.replace("r1", SECTIONS)
    return world


def test_a_remark_goes_to_the_section_it_names_and_a_rerun_places_nothing(placed_world: World) -> None:
    uow = placed_world.uow
    uow.sections.remarks["r1"] = [remark(1, "1.1", "Vi ønsker, at § 2 ændres, så taksterne falder.")]
    no_log = placed_world.base / "log.xlsx"

    assert prepare_placements(placed_world.app, "r1", no_log) == 1
    placed = uow.sections.placements("r1")["1.1"]
    assert (placed.section, placed.basis) == (2, Basis.REFERENCE)
    assert prepare_placements(placed_world.app, "r1", no_log) == 0
    assert [(e.kind, e.detail) for e in uow.events.added] == [
        ("placed", {"remarks": 1, "split_responses": 0})
    ]


def test_a_response_on_two_sections_is_split_into_one_remark_each(placed_world: World) -> None:
    uow = placed_world.uow
    text = (
        "Til § 1: Formålet bør også nævne pårørende og frivillige i hverdagen.\n\n"
        "Til § 2: Taksterne for madservice er for høje for mange ældre borgere."
    )
    uow.sections.remarks["r1"] = [remark(7, "7.1", text)]

    assert prepare_placements(placed_world.app, "r1", placed_world.base / "log.xlsx") == 2
    numbers = [(r.number, r.position) for r in uow.sections.remarks["r1"]]
    assert numbers == [("7.1", 1), ("7.2", 2)]
    placements = uow.sections.placements("r1")
    assert (placements["7.1"].section, placements["7.2"].section) == (1, 2)
    assert uow.events.added[-1].detail == {"remarks": 2, "split_responses": 1}


def test_a_response_staff_wrote_on_is_never_split(placed_world: World) -> None:
    uow = placed_world.uow
    text = "Til § 1: Formålet bør nævne pårørende.\n\nTil § 2: Taksterne for madservice er for høje."
    uow.sections.remarks["r1"] = [remark(7, "7.1", text)]
    uow.sections.noted.add("7.1")

    assert prepare_placements(placed_world.app, "r1", placed_world.base / "log.xlsx") == 1
    assert [r.number for r in uow.sections.remarks["r1"]] == ["7.1"]


def test_a_section_staff_chose_in_the_log_is_kept_over_a_new_reading_of_the_draft(
    placed_world: World,
) -> None:
    uow = placed_world.uow
    uow.sections.remarks["r1"] = [remark(1, "1.1", "Vi ønsker, at § 2 ændres, så taksterne falder.")]
    log = placed_world.base / "log.xlsx"
    prepare_placements(placed_world.app, "r1", log)

    prepare_placements(placed_world.app, "r1", log_with(log, {"1.1": "§ 1 Formål"}))

    assert uow.sections.placements("r1")["1.1"] == Placement(1, Basis.STAFF, "§ 1 Formål")
    assert ("sections_chosen", {"remarks": 1}) in [(e.kind, e.detail) for e in uow.events.added]
    # The draft is read again with a section in front: the choice follows "§ 1 Formål" by name.
    front = Section(1, "", "Indledning", 1, 1, "Indledning til strategien.", "udkast.pdf")
    moved = [front, *(Section(s.position + 1, *vars_of(s)) for s in SECTIONS)]
    uow.sections.replace("r1", moved)
    assert prepare_placements(placed_world.app, "r1", log) == 0
    assert uow.sections.placements("r1")["1.1"] == Placement(2, Basis.STAFF, "§ 1 Formål")


def test_an_afsnit_that_names_no_section_stops_and_saves_no_choice(placed_world: World) -> None:
    uow = placed_world.uow
    uow.sections.remarks["r1"] = [
        remark(1, "1.1", "Vi ønsker, at § 2 ændres."),
        remark(2, "2.1", "Om § 1: formålet er fint."),
    ]
    log = placed_world.base / "log.xlsx"
    prepare_placements(placed_world.app, "r1", log)
    before = uow.sections.placements("r1")

    with pytest.raises(LogEditConflictError, match="Afsnit »§ 9 Findes ikke« er ikke et af udkastets"):
        prepare_placements(placed_world.app, "r1", log_with(log, {"1.1": "§ 1", "2.1": "§ 9 Findes ikke"}))

    assert uow.sections.placements("r1") == before


def vars_of(s: Section) -> tuple[str, str, int, int | None, str, str]:
    return s.number, s.title, s.level, s.page, s.text, s.document
