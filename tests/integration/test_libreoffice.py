"""The log and the note open in LibreOffice: each converts to PDF headless without error."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.adapters.excel_log import write_log
from flows.adapters.response_template import ANSWER_SHEET, REF_SHEET, build_template
from flows.adapters.word_note import write_note
from flows.core.assembly import Assembly
from tests.factories import make_assembly, response

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"),
]


def _convert(source: Path, out: Path) -> Path:
    # A private profile dir: parallel test runs and a user's own LibreOffice do not collide.
    profile = out / "profile"
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    pdf = out / (source.stem + ".pdf")
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and pdf.stat().st_size > 1000, done.stdout + done.stderr
    return pdf


def _assembly() -> Assembly:
    a = make_assembly(5, late=1)
    a.responses.append(response(9, "=Formel-forening", "=1+2 og +45 og @navn\tmed tab"))
    return a


def test_log_converts_to_pdf(tmp_path: Path) -> None:
    """LibreOffice opens the høringslog and prints it to PDF."""
    a = _assembly()
    path = tmp_path / f"{a.round.id}-hoeringslog.xlsx"
    write_log(a, path)
    _convert(path, tmp_path)


def test_note_converts_to_pdf(tmp_path: Path) -> None:
    """LibreOffice opens the høringsnotat and prints it to PDF."""
    a = _assembly()
    path = tmp_path / f"{a.round.id}-hoeringsnotat.docx"
    write_note(a, path)
    _convert(path, tmp_path)


# LibreOffice's CSV filter: comma, double quote, UTF-8, … and -1 at the end = every sheet to its own file.
_CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def test_template_for_a_formula_named_party_is_not_evaluated(tmp_path: Path) -> None:
    """LibreOffice reads the party name in the mailed template as text: no HYPERLINK is computed."""
    name = '=HYPERLINK("http://evil","klik")'
    source = tmp_path / "hoeringsskema.xlsx"
    source.write_bytes(build_template("r-2025", "Strategi", name, "fredag den 24. oktober 2025 kl. 23.59"))
    profile = tmp_path / "profile"
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", _CSV_ALL_SHEETS,
         "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for sheet in (ANSWER_SHEET, REF_SHEET):
        with (tmp_path / f"hoeringsskema-{sheet}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        values = [row[1] for row in rows if len(row) > 1 and row[0] in ("Høringspart", "party")]
        assert values == [name], (sheet, rows[:4])  # a formula would have given "klik"
