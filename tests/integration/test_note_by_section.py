"""A round whose draft has sections: read at open, every remark placed, the note by sections.

One round through the services (no Prefect): a .docx draft of ten sections, e-mails that point to
pages, section numbers or only talk about a subject, one that takes up three sections, a campaign;
then `assemble` in by_section layout, a staff choice of another `Afsnit`, and `assemble` again.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import docx
import pypdf
import pytest
from openpyxl import load_workbook

from flows.adapters.draft_sections import read_sections
from flows.bootstrap import App, bootstrap
from flows.core.errors import LogEditConflictError
from flows.core.placement import SectionIndex, place
from flows.services import assembling
from flows.services.opening import open_round
from flows.services.status import round_status
from flows.settings import Settings
from flows.status import status_lines
from tests.integration.test_round_lifecycle import collect, deliver
from tests.support.draft_fixture import MULTI_SECTION_RESPONSE, REMARKS, SECTIONS, write_docx
from tests.unit.test_placement import scores

ROUND = """\
id = "test-runde"
title = "Strategi for partnerskaber med civilsamfundet"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering@kk.example"
documents = ["udkast.docx"]
note_layout = "by_section"

[[parties]]
name = "Røde Kors Hovedstaden"
email = "kbh@roedekors.example"

[[parties]]
name = "WeShelter"
email = "post@weshelter.example"

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Kirkens Korshær"
email = "kk@korshaer.example"

[[parties]]
name = "Ny Start"
email = "ny@start.example"

[[parties]]
name = "Stille Forening"
email = "stille@forening.example"
"""

CAMPAIGN = "Vi støtter fuldt ud forslaget om flere natcaféer og gadeplansarbejde for hjemløse."


def _app(tmp_path: Path) -> App:
    base = tmp_path / "round"
    base.mkdir()
    write_docx(base / "udkast.docx")
    (base / "runde.toml").write_text(ROUND, encoding="utf-8")
    app = bootstrap(
        Settings(data_dir=tmp_path / "var", now=datetime.fromisoformat("2025-10-16T09:00:00+02:00"))
    )
    open_round(app, base / "runde.toml")
    deliver(app, "a", "kbh@roedekors.example", "På side 7 er puljen for lille til de små foreninger.",
            "2025-10-20T10:00:00+02:00")  # fmt: skip
    deliver(app, "b", "post@weshelter.example", MULTI_SECTION_RESPONSE, "2025-10-20T11:00:00+02:00")
    deliver(app, "c", "aeldre@raad.example", "Tak for et godt materiale. Vi ser frem til samarbejdet.",
            "2025-10-21T09:00:00+02:00")  # fmt: skip
    deliver(app, "d", "kk@korshaer.example", CAMPAIGN, "2025-10-21T10:00:00+02:00")
    deliver(app, "e", "ny@start.example", CAMPAIGN, "2025-10-21T11:00:00+02:00")
    collect(app)
    return app


def _paragraphs(path: Path) -> list[tuple[str, str]]:
    return [(p.style.name if p.style else "", p.text) for p in docx.Document(str(path)).paragraphs]


def _remarks(log: Path) -> list[dict[str, object]]:
    sheet = load_workbook(log)["Bemærkninger"]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=False)) for row in rows[1:]]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> tuple[App, assembling.AssembleReport]:
    tmp_path = tmp_path_factory.mktemp("by-section")
    app = _app(tmp_path)
    return app, assembling.assemble(app, "test-runde", tmp_path / "out")


def test_status_says_how_many_sections_the_draft_has(
    assembled: tuple[App, assembling.AssembleReport],
) -> None:
    """The ten sections of the .docx draft are read when the round is opened, and status says so."""
    app, _ = assembled
    result = round_status(app, "test-runde")
    assert result["sections"] == 10
    assert "Udkastets afsnit: 10 fundet i høringens dokumenter" in status_lines(result)


def test_every_remark_has_its_section_and_how_it_was_found(
    assembled: tuple[App, assembling.AssembleReport],
) -> None:
    """`Afsnit` and `Placeret ud fra` for every remark; a response on three sections is three remarks."""
    _, report = assembled
    rows = {(r["Høringspart"], r["Afsnit"]): r for r in _remarks(report.log)}
    assert rows[("Røde Kors Hovedstaden", "5 Økonomi og finansiering")]["Placeret ud fra"] == (
        "Henvisning i teksten: »side 7«"
    )
    weshelter = [a for (party, a) in rows if party == "WeShelter"]
    assert weshelter == [
        "3.2 Socialt udsatte voksne",
        "5 Økonomi og finansiering",
        "7 Evaluering og opfølgning",
    ]
    assert rows[("Ældrerådet", "Generelt")]["Placeret ud fra"].startswith("Ingen henvisning")  # type: ignore[union-attr]
    assert ("Kirkens Korshær", "3.2 Socialt udsatte voksne") in rows  # by its words alone
    responses = list(load_workbook(report.log)["Høringssvar"].iter_rows(values_only=True))
    header = responses[0]
    whole = [dict(zip(header, r, strict=False)) for r in responses[1:] if "WeShelter" in r]
    pieces = [str(r["Bemærkning"]) for r in _remarks(report.log) if r["Høringspart"] == "WeShelter"]
    assert "\n\n".join(pieces) == whole[0]["Tekst"]  # the full text stays whole in `Høringssvar`


def test_the_drop_down_lists_the_drafts_sections(assembled: tuple[App, assembling.AssembleReport]) -> None:
    """`Afsnit` is a list validation over the sheet of the draft's sections, "Generelt" first."""
    _, report = assembled
    book = load_workbook(report.log)
    listed = [row[0] for row in book["Udkastets afsnit"].iter_rows(min_row=2, values_only=True)]
    assert listed[0] == "Generelt" and listed[1] == "1 Indledning" and len(listed) == 11
    validations = book["Bemærkninger"].data_validations.dataValidation
    assert any(v.formula1 == "'Udkastets afsnit'!$A$2:$A$12" for v in validations)


def test_the_note_follows_the_drafts_order(assembled: tuple[App, assembling.AssembleReport]) -> None:
    """General remarks first, then the sections with remarks in the draft's order, each saying who."""
    _, report = assembled
    paras = _paragraphs(report.note)
    headings = [t for s, t in paras if s == "Heading 2"]
    assert headings == [
        "Generelle bemærkninger",
        "3.2 Socialt udsatte voksne",
        "5 Økonomi og finansiering",
        "7 Evaluering og opfølgning",
    ]
    texts = [t for _, t in paras]
    assert "WeShelter og 2 enslydende høringssvar har bemærkninger til afsnittet." in texts
    assert "Røde Kors Hovedstaden og WeShelter har bemærkninger til afsnittet." in texts
    assert texts.count("Enslydende høringssvar fra 2 afsendere:") == 1  # the campaign once, with its count
    assert report.quality_problems == []


def test_staff_choose_another_section_and_assemble_follows(
    assembled: tuple[App, assembling.AssembleReport],
) -> None:
    """A section picked in the log's drop-down moves the remark in the next note; a bad one is refused."""
    app, report = assembled
    book = load_workbook(report.log)
    sheet = book["Bemærkninger"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("Høringspart")].value == "Ældrerådet":
            row[header.index("Afsnit")].value = "1 Indledning"
    book.save(report.log)

    again = assembling.assemble(app, "test-runde", report.log.parent)

    moved = [r for r in _remarks(again.log) if r["Høringspart"] == "Ældrerådet"]
    assert [(r["Afsnit"], r["Placeret ud fra"]) for r in moved] == [
        ("1 Indledning", "Valgt af forvaltningen")
    ]
    headings = [t for s, t in _paragraphs(again.note) if s == "Heading 2"]
    assert headings[:2] == ["Generelle bemærkninger", "1 Indledning"]

    book = load_workbook(again.log)
    sheet = book["Bemærkninger"]
    sheet.cell(row=2, column=header.index("Afsnit") + 1).value = "Kapitel 99 om noget andet"
    book.save(again.log)
    with pytest.raises(LogEditConflictError, match="ikke et af udkastets afsnit"):
        assembling.assemble(app, "test-runde", again.log.parent)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_the_note_by_sections_opens_in_libreoffice(
    assembled: tuple[App, assembling.AssembleReport], tmp_path: Path
) -> None:
    """LibreOffice converts the by-section note to PDF, and its text reads in the draft's order."""
    _, report = assembled
    profile = tmp_path / "profile"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "txt:Text",
         "--outdir", str(tmp_path), str(report.note)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    text = (tmp_path / report.note.with_suffix(".txt").name).read_text(encoding="utf-8-sig")
    order = ["Generelle bemærkninger", "3.2 Socialt udsatte voksne", "5 Økonomi og finansiering",
             "7 Evaluering og opfølgning", "Ændringer i udkastet", "Parter der ikke har afgivet høringssvar"]  # fmt: skip
    at = [text.index(heading) for heading in order]
    assert at == sorted(at)
    assert zipfile.is_zipfile(report.note)


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_pdf_with_an_outline_gives_the_same_sections(tmp_path: Path) -> None:
    """The .docx draft printed to PDF by LibreOffice has bookmarks: its outline gives the ten
    sections with their pages, and the sixty labelled remarks are placed as well as from the .docx."""
    source = write_docx(tmp_path / "udkast.docx")
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to",
         'pdf:writer_pdf_Export:{"ExportBookmarks":{"type":"boolean","value":"true"}}',
         "--outdir", str(tmp_path / "pdf"), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / "pdf" / "udkast.pdf"
    assert pypdf.PdfReader(str(pdf)).outline  # the path under test: the outline, not the fonts

    sections = read_sections([pdf]).sections

    assert [(s.number, s.title, s.page) for s in sections] == [
        (number, title, page) for page, (number, title, _, _) in enumerate(SECTIONS, start=1)
    ]
    index = SectionIndex(sections)
    pairs = [(m.label, place(m.text, index, m.template_section).section) for m in REMARKS]
    precision, recall, _ = scores(pairs)
    assert precision >= 0.85 and recall >= 0.85
