"""The log and the note open in LibreOffice: each converts to PDF headless without error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from flows.adapters.excel_log import write_log
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
