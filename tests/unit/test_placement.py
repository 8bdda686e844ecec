"""Placing remarks in the draft: sixty labelled remarks on a ten-section draft, as .docx and .pdf.

The drafts are generated here (tests/support/draft_fixture.py): python-docx writes the .docx with
heading styles and page breaks, fpdf2 writes a .pdf without an outline whose headings are known
only by their size and weight. Precision and recall (macro, over the ten sections and
"Generelt") must reach 0.85; the confusion matrix is printed (pytest -s) for the report.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from flows.adapters.draft_sections import read_sections
from flows.core.placement import Basis, SectionIndex, place, references, split_by_section
from flows.core.sections import Section, heading_parts, in_sequence
from tests.support.draft_fixture import MULTI_SECTION_RESPONSE, REMARKS, SECTIONS, write_docx, write_pdf

LABELS = [None, *range(1, 11)]


def _name(label: int | None) -> str:
    return "Generelt" if label is None else SECTIONS[label - 1][0]


def scores(
    pairs: list[tuple[int | None, int | None]],
) -> tuple[float, float, Counter[tuple[int | None, int | None]]]:
    """Macro precision and recall over the labels, and the confusion (truth, predicted) counts."""
    confusion: Counter[tuple[int | None, int | None]] = Counter(pairs)
    precision, recall = [], []
    for label in LABELS:
        tp = confusion[(label, label)]
        predicted = sum(n for (_, p), n in confusion.items() if p == label)
        actual = sum(n for (t, _), n in confusion.items() if t == label)
        precision.append(tp / predicted if predicted else 1.0 if not actual else 0.0)
        recall.append(tp / actual if actual else 1.0)
    return sum(precision) / len(LABELS), sum(recall) / len(LABELS), confusion


def _matrix(confusion: Counter[tuple[int | None, int | None]]) -> str:
    head = "sand \\ placeret " + " ".join(f"{_name(p):>5}" for p in LABELS)
    rows = [f"{_name(t):>15} " + " ".join(f"{confusion[(t, p)]:>5}" for p in LABELS) for t in LABELS]
    return "\n".join([head, *rows])


@pytest.fixture(scope="module", params=["docx", "pdf"])
def sections(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Section]:
    folder = tmp_path_factory.mktemp(request.param)
    path = write_docx(folder / "udkast.docx") if request.param == "docx" else write_pdf(folder / "udkast.pdf")
    return read_sections([path]).sections


def test_the_ten_sections_are_read_with_number_title_level_and_page(sections: list[Section]) -> None:
    """Headings (styles in .docx, size and weight in .pdf) give the ten sections; the numbered list
    item inside each section ("1. Første punkt …") is not taken for a section."""
    assert [(s.number, s.title, s.level, s.page) for s in sections] == [
        (number, title, level, page) for page, (number, title, level, _) in enumerate(SECTIONS, start=1)
    ]
    assert all(SECTIONS[s.position - 1][3][:40] in " ".join(s.text.split()) for s in sections)


def test_sixty_labelled_remarks_are_placed_with_precision_and_recall_of_085(sections: list[Section]) -> None:
    """By page, by section number, by a quoted heading, by words alone, or general: ≥ 0.85 both ways."""
    index = SectionIndex(sections)
    pairs = [(m.label, place(m.text, index, m.template_section).section) for m in REMARKS]
    precision, recall, confusion = scores(pairs)
    print(f"\nprecision {precision:.3f} recall {recall:.3f}\n{_matrix(confusion)}")
    by_how = Counter(m.how for m in REMARKS)
    print("remarks by kind:", dict(by_how))
    assert len(REMARKS) == 60
    assert precision >= 0.85
    assert recall >= 0.85


def test_each_kind_of_reference_names_its_section(sections: list[Section]) -> None:
    """ "side 7" and "s. 7" go by the page, "afsnit 3.2" and "punkt 4" by number, a quoted heading by title."""
    index = SectionIndex(sections)
    found = {written: s.number for _, s, written in references(
        "Se side 7, s. 9, afsnit 3.2, punkt 4 og ”Samlokalisering og lokaler”.", index)}  # fmt: skip
    assert found == {
        "side 7": "5", "s. 9": "7", "afsnit 3.2": "3.2", "punkt 4": "4", "”Samlokalisering og lokaler”": "6",
    }  # fmt: skip
    assert references("Vi har læst side 212 i en helt anden rapport.", index) == []


def test_a_remark_without_any_telling_word_is_general(sections: list[Section]) -> None:
    """Thanks and a complaint about the deadline share no telling word with any section: Generelt."""
    index = SectionIndex(sections)
    for text in ("Tak for et godt materiale.", "Høringsfristen var alt for kort."):
        placed = place(text, index)
        assert (placed.section, placed.basis) == (None, Basis.GENERAL)


def test_a_response_on_three_sections_is_split_in_three(sections: list[Section]) -> None:
    """One remark per group of paragraphs; the greeting goes with the first, the sign-off with the last."""
    index = SectionIndex(sections)
    pieces = split_by_section(MULTI_SECTION_RESPONSE, index)
    assert [index.by_position[p.section].number for _, p in pieces if p.section] == ["3.2", "5", "7"]
    assert pieces[0][0].startswith("Tak for muligheden")
    assert "vintermånederne" in pieces[0][0]  # a paragraph without a section of its own stays with its group
    assert "\n\n".join(t for t, _ in pieces) == MULTI_SECTION_RESPONSE.strip()


def test_a_response_on_one_section_stays_whole(sections: list[Section]) -> None:
    index = SectionIndex(sections)
    text = "Til afsnit 5: Puljen er for lille.\n\nOg tilskuddet bør gives i fem år."
    assert split_by_section(text, index) == [(text, place(text, index))]


def test_a_draft_without_sections_is_one_section(tmp_path: Path) -> None:
    """A draft of plain paragraphs is one section, the whole draft; a file that is no document gives a reason."""
    import docx

    plain = tmp_path / "notat.docx"
    document = docx.Document()
    document.add_paragraph("Kommunen vil gerne have flere frivillige.")
    document.save(str(plain))
    broken = tmp_path / "udkast.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")

    found = read_sections([broken, plain])

    assert [(s.number, s.title, s.document) for s in found.sections] == [("", "Hele udkastet", "notat.docx")]
    assert found.problems and found.problems[0].startswith("udkast.pdf: afsnittene kunne ikke læses")
    placed = place("Flere frivillige er godt.", SectionIndex(found.sections))
    assert (placed.section, placed.basis) == (1, Basis.SINGLE)


def test_numbered_headings_and_lists() -> None:
    """ "3.2 Økonomi" and "§ 4" are headings; a sentence after a number is not; an outline goes 1, 2, 2.1, 3."""
    assert heading_parts("3.2 Økonomi og finansiering") == ("3.2", "Økonomi og finansiering")
    assert heading_parts("§ 4. Kommunalbestyrelsen fører tilsyn med, at reglerne overholdes i hele kommunen "
                         "og i alle dens institutioner og tilbud.") == ("§ 4", "")  # fmt: skip
    assert heading_parts("2. Vi mener, at fristen er for kort, og at den bør forlænges til fire uger, "
                         "så alle kan nå at svare.") is None  # fmt: skip
    assert in_sequence(["1", "2", "2.1", "2.2", "1", "3", "3.1"]) == [
        True,
        True,
        True,
        True,
        False,
        True,
        True,
    ]
