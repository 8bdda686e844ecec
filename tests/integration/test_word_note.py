"""The høringsnotat: structure and wording of the reference note, real Word features, the quality gate."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from flows.adapters.word_note import write_note
from flows.core.assembly import Assembly, StaffNote
from flows.core.model import LatePolicy, PartyStatus
from flows.core.quality import NoteFacts, Quotes, check_note
from tests.factories import SAMPLE_TEXTS, make_assembly, make_big_assembly, party, remark, response

PLACEHOLDER = "[Udkast – skal gennemses]"


def _note(
    tmp_path: Path, assembly: Assembly | None = None, **kwargs: object
) -> tuple[list[tuple[str, str]], Path]:
    assembly = assembly or make_assembly()
    path = tmp_path / f"{assembly.round.id}-hoeringsnotat.docx"
    write_note(assembly, path, **kwargs)  # type: ignore[arg-type]
    return [(p.style.name if p.style else "", p.text) for p in docx.Document(str(path)).paragraphs], path


def _texts(paras: list[tuple[str, str]]) -> list[str]:
    return [t for _, t in paras]


def _after(paras: list[tuple[str, str]], text: str, n: int) -> list[str]:
    texts = _texts(paras)
    i = texts.index(text)
    return texts[i + 1 : i + 1 + n]


def test_sections_in_the_reference_order_as_headings(tmp_path: Path) -> None:
    """Title, then Heading 1 sections in the order of the reference note, ending with the changes."""
    paras, _ = _note(tmp_path, make_assembly(late=1))
    assert paras[0] == ("Title", "Høringsnotat")
    assert paras[1][1].startswith("Ét SOF")
    assert [t for s, t in paras if s == "Heading 1"] == [
        "Høringsparter", "Modtagne høringssvar", "Bemærkninger til strategien",
        "Høringssvar modtaget efter fristen", "Parter der ikke har afgivet høringssvar", "Ændringer i udkastet",
    ]  # fmt: skip


def test_parties_period_count_and_numbered_list_read_like_the_reference(tmp_path: Path) -> None:
    """The sentences of the reference with the period in Danish and a numbered list in order of receipt."""
    paras, _ = _note(tmp_path)
    texts = _texts(paras)
    assert (
        "Udkastet til ”Ét SOF's strategi for partnerskabende samarbejde med civilsamfundet” har været sendt "
        "i høring hos medlemmerne i Frivillig- og Udsatterådet."
    ) in texts
    assert (
        "Udkastet har været i høring i perioden torsdag den 16. oktober til og med fredag den 24. oktober."
        in texts
    )
    intro = "Forvaltningen har i perioden modtaget fem skriftlige høringssvar fra følgende parter:"
    assert _after(paras, intro, 5) == [
        "1. SAND Hovedstaden", "2. Røde Kors Hovedstaden", "3. WeShelter", "4. Red Barnet Ungdom", "5. Kirkens Korshær",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "ét skriftligt høringssvar"), (2, "to skriftlige"), (5, "fem skriftlige"), (12, "tolv skriftlige"),
     (21, "enogtyve skriftlige")],
)  # fmt: skip
def test_count_in_words(tmp_path: Path, n: int, words: str) -> None:
    """The number of on-time responses is written in Danish words."""
    paras, _ = _note(tmp_path, make_assembly(n, late=1))
    assert any(f"modtaget {words}" in t for t in _texts(paras))


@pytest.mark.parametrize("late", [0, 1])
def test_a_round_without_responses_says_so_and_passes_the_gate(tmp_path: Path, late: int) -> None:
    """No counted response: the count says "ingen", the remarks section says none came in, no quality box."""
    a = make_assembly(0, late=late)
    path = tmp_path / "n.docx"
    report = write_note(a, path)
    paras = [(p.style.name if p.style else "", p.text) for p in docx.Document(str(path)).paragraphs]
    texts = _texts(paras)
    assert report.ok, report.problems
    assert not any("Kvalitetskontrol" in t or t.startswith("•") for t in texts)
    assert "Forvaltningen har i perioden modtaget ingen skriftlige høringssvar." in texts
    assert _after(paras, "Bemærkninger til strategien", 1) == [
        "Der er ikke modtaget høringssvar inden for fristen."
    ]


def test_each_response_quoted_verbatim_in_danish_quotation_marks(tmp_path: Path) -> None:
    """Party name with colon as a Heading 2, then the text between ” marks, paragraphs kept."""
    paras, _ = _note(tmp_path)
    assert ("Heading 2", "SAND Hovedstaden:") in paras
    assert _after(paras, "SAND Hovedstaden:", 1) == [f"”{SAMPLE_TEXTS['SAND Hovedstaden']}”"]
    assert _after(paras, "Røde Kors Hovedstaden:", 2) == [
        "”Her har I vores korte bemærkninger.", "Det er virkelig positivt, at der er igangsat en proces.”",
    ]  # fmt: skip


def test_staff_reply_used_and_missing_reply_marked_for_review(tmp_path: Path) -> None:
    """A reply from the log replaces the placeholder; without one the standard phrase is highlighted and marked."""
    notes = {"1.1": StaffNote(reply="Forvaltningen har rettet side 7.")}
    paras, path = _note(tmp_path, make_assembly(notes=notes))
    assert _after(paras, f"”{SAMPLE_TEXTS['SAND Hovedstaden']}”", 1) == ["Forvaltningen har rettet side 7."]
    marked = f"{PLACEHOLDER} Forvaltningen tager bemærkningen til efterretning."
    assert _after(paras, f"”{SAMPLE_TEXTS['WeShelter']}”", 1) == [marked]
    doc = docx.Document(str(path))
    placeholder = next(p for p in doc.paragraphs if p.text == marked)
    assert all(r.font.highlight_color is not None for r in placeholder.runs)


def test_several_remarks_each_with_section_and_reply(tmp_path: Path) -> None:
    """A template response shows each remark's section, quote, proposal and its own reply."""
    a = make_assembly(1)
    r = a.responses[0]
    a.remarks = [
        remark(r, 1, text="Første punkt.", section="Side 2", proposal="Skriv mere."),
        remark(r, 2, text="Andet punkt.", section="Side 7"),
    ]
    a.notes = {"1.2": StaffNote(reply="Tilføjet.")}
    paras, _ = _note(tmp_path, a)
    assert _after(paras, "SAND Hovedstaden:", 7) == [
        "Afsnit: Side 2", "”Første punkt.”", "Forslag til ændring: Skriv mere.",
        f"{PLACEHOLDER} Forvaltningen tager bemærkningen til efterretning.",
        "Afsnit: Side 7", "”Andet punkt.”", "Tilføjet.",
    ]  # fmt: skip


def test_no_remarks_response_is_stated_briefly(tmp_path: Path) -> None:
    """An "ingen bemærkninger" reply is its party's heading and one sentence: no quote, no placeholder."""
    a = make_assembly(2)
    a.responses[1] = dataclasses.replace(a.responses[1], content="Ingen bemærkninger", no_remarks=True)
    a.remarks = a.remarks[:1]
    paras, _ = _note(tmp_path, a)
    texts = _texts(paras)
    assert "Røde Kors Hovedstaden har ingen bemærkninger til udkastet." in texts
    heading = texts.index("Røde Kors Hovedstaden:")
    assert texts[heading + 1] == "Røde Kors Hovedstaden har ingen bemærkninger til udkastet."
    assert any("modtaget to skriftlige" in t for t in texts)


def test_campaign_quoted_once_with_count_and_senders(tmp_path: Path) -> None:
    """Identical campaign responses are quoted once, with how many and who sent them."""
    a = make_assembly(1)
    for i in range(2, 6):
        a.responses.append(response(i, f"Borger {i}", "Red parken!", campaign="parken"))
    paras, _ = _note(tmp_path, a)
    texts = _texts(paras)
    assert texts.count("”Red parken!”") == 1
    assert "Enslydende høringssvar fra 4 afsendere:" in texts
    assert "Høringssvaret er sendt af: Borger 2, Borger 3, Borger 4, Borger 5." in texts
    assert any("modtaget fem skriftlige" in t for t in texts)


def test_late_responses_in_their_own_section_or_left_out(tmp_path: Path) -> None:
    """With "flag" late responses get their own section; with "exclude" they are not in the note."""
    paras, _ = _note(tmp_path, make_assembly(2, late=1))
    late = _after(paras, "Høringssvar modtaget efter fristen", 3)
    assert late[0].startswith(
        "Forvaltningen har efter fristen fredag den 24. oktober 2025 kl. 23.59 modtaget ét"
    )
    assert late[1].startswith("Sen forening 1 (modtaget 25.10.2025 kl.")
    assert late[2] == "”Vi kommer lidt for sent, 1.”"
    assert "3. Sen forening 1" not in _texts(paras)
    excluded, _ = _note(tmp_path, make_assembly(2, late=1, late_policy=LatePolicy.EXCLUDE))
    assert "Høringssvar modtaget efter fristen" not in _texts(excluded)
    assert not any("Sen forening 1 (" in t or "for sent" in t for t in _texts(excluded))


def test_parties_not_answering_are_listed(tmp_path: Path) -> None:
    """Silent parties and parties whose invitation bounced are named."""
    a = make_assembly(2, silent=2)
    a.parties.append(party("Bounce-foreningen", PartyStatus.UNDELIVERED, 0))
    paras, _ = _note(tmp_path, a)
    assert _after(paras, "Følgende høringsparter har ikke afgivet høringssvar:", 3) == [
        "Bounce-foreningen (høringsbrevet kunne ikke leveres)", "Tavs forening 1", "Tavs forening 2",
    ]  # fmt: skip


def test_changes_section_lists_rows_marked_ja_or_delvist(tmp_path: Path) -> None:
    """Ændringer i udkastet lists the log's changes marked Ja or Delvist, not Nej."""
    notes = {
        "1.1": StaffNote(
            reply="Rettet.", change="Brugerorganisationer tilføjet på side 7.", gives_change="Ja"
        ),
        "2.1": StaffNote(reply="Delvist.", change="Formålet præciseret på side 2.", gives_change="Delvist"),
        "3.1": StaffNote(reply="Nej tak.", change="", gives_change="Nej"),
    }
    paras, _ = _note(tmp_path, make_assembly(notes=notes))
    assert _after(paras, "Høringen har givet anledning til følgende ændringer i udkastet:", 2) == [
        "SAND Hovedstaden (bemærkning 1.1): Brugerorganisationer tilføjet på side 7.",
        "Røde Kors Hovedstaden (bemærkning 2.1): Formålet præciseret på side 2.",
    ]
    assert paras[-1][1].startswith("Røde Kors")


def test_word_features_language_page_numbers_and_heading_outline(tmp_path: Path) -> None:
    """da-DK in the style defaults, a PAGE field in the footer, headings usable for navigation."""
    _, path = _note(tmp_path)
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("word/styles.xml").decode()
        footers = "".join(zf.read(n).decode() for n in zf.namelist() if n.startswith("word/footer"))
    assert 'w:lang w:val="da-DK"' in styles.split("</w:docDefaults>")[0]
    assert "PAGE" in footers
    doc = docx.Document(str(path))
    assert doc.styles["Heading 1"].style_id == "Heading1"
    assert doc.core_properties.language == "da-DK"


def test_letterhead_is_the_base_document(tmp_path: Path) -> None:
    """Given a letterhead, its header, footer and content are kept and the note is appended after them."""
    base = docx.Document()
    base.sections[0].header.paragraphs[0].text = "Københavns Kommune – Socialforvaltningen"
    base.sections[0].footer.paragraphs[0].text = "Bernstorffsgade 17"
    base.add_paragraph("Dato: 1. november 2025")
    letterhead = tmp_path / "letterhead.docx"
    base.save(str(letterhead))
    paras, path = _note(tmp_path, letterhead=letterhead)
    doc = docx.Document(str(path))
    assert doc.sections[0].header.paragraphs[0].text == "Københavns Kommune – Socialforvaltningen"
    assert "Bernstorffsgade 17" in [p.text for p in doc.sections[0].footer.paragraphs]
    assert _texts(paras)[:2] == ["Dato: 1. november 2025", "Høringsnotat"]


def test_quality_gate_passes_a_correct_note(tmp_path: Path) -> None:
    """A normal round passes the gate and has no quality box."""
    a = make_assembly(late=1)
    path = tmp_path / "n.docx"
    report = write_note(a, path)
    assert report.ok and report.placeholders == 6
    assert not any("Kvalitetskontrol" in p.text for p in docx.Document(str(path)).paragraphs)


def test_quality_gate_failure_is_shown_on_the_first_page(tmp_path: Path) -> None:
    """A party marked "Ikke svaret" despite a response is reported and shown in a box after the title."""
    a = make_assembly(2)
    a.parties[0] = dataclasses.replace(a.parties[0], status=PartyStatus.NOT_ANSWERED)
    path = tmp_path / "n.docx"
    report = write_note(a, path)
    assert not report.ok
    doc = docx.Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert texts[2].startswith("Kvalitetskontrol:")
    assert "SAND Hovedstaden" in texts[3]
    ppr = doc.paragraphs[2]._p.pPr
    assert ppr is not None
    assert ppr.find(qn("w:pBdr")) is not None


def test_quality_gate_catches_missing_response_altered_quote_and_wrong_count() -> None:
    """The pure gate reports each kind of defect in what the writer would write."""
    a = make_assembly(2)
    facts = NoteFacts(
        count_sentence="Forvaltningen har i perioden modtaget tre skriftlige høringssvar fra følgende parter:",
        counted=3, listed=("SAND Hovedstaden",), quoted=Quotes([(1, "jeg har en bemærkning.")]), covered=frozenset({1}),
    )  # fmt: skip
    problems = " | ".join(check_note(a, facts, include_late=True).problems)
    assert "1 høringssvar mangler i notatet: nr. 2" in problems
    assert "citatet fra høringssvar nr. 1" in problems
    assert "notatet tæller 3" in problems and "to skriftlige høringssvar" in problems
    assert "mangler Røde Kors Hovedstaden" in problems


def test_illegal_characters_do_not_break_the_document(tmp_path: Path) -> None:
    """Control characters in a response are dropped; the note still opens and passes the gate."""
    a = make_assembly(1)
    a.responses[0] = dataclasses.replace(a.responses[0], content="Tekst\x00 med\x0b kontroltegn & <xml>")
    a.remarks = [remark(a.responses[0])]
    paras, _ = _note(tmp_path, a)
    assert "”Tekst med kontroltegn & <xml>”" in _texts(paras)


def test_ten_thousand_responses_grouped_in_campaigns_pass_the_gate(tmp_path: Path) -> None:
    """10,000 responses (30 % in five campaigns) are written and pass the gate (speed: the bench)."""
    a = make_big_assembly(20_000, per_response=2, campaigns=5, campaign_share=0.3)
    report = write_note(a, tmp_path / "big.docx")
    assert report.ok


def test_hard_wrapped_mail_text_is_shown_as_flowing_paragraphs() -> None:
    """Lines a mail program wrapped at ~70 characters are joined for display; lists keep their breaks."""
    from flows.adapters.word_note import unwrap

    wrapped = "Vi foreslår, at brugerorganisationerne nævnes udtrykkeligt i afsnittet\nom visioner for partnerskaberne."

    assert unwrap(wrapped) == wrapped.replace("\n", " ")
    assert unwrap("Vi foreslår:\n- flere væresteder\n- længere åbningstider") == (
        "Vi foreslår:\n- flere væresteder\n- længere åbningstider"
    )
