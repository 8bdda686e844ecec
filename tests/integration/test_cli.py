"""The command line as a case worker meets it: one-line errors, and a demo that runs end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

HOERING = str(Path(sys.executable).with_name("hoering"))


def run(
    args: list[str], tmp_path: Path, timeout: int = 600, settings: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOERING_", "PREFECT_"))}
    env |= {"HOERING_DATA_DIR": str(tmp_path / "var"), "DO_NOT_TRACK": "1"} | (settings or {})
    return subprocess.run(
        [HOERING, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=tmp_path, check=False
    )


def test_a_bad_round_file_gives_one_line_and_no_traceback(tmp_path: Path) -> None:
    """`hoering open` on a broken file exits non-zero with one line naming the problem."""
    bad = tmp_path / "runde.toml"
    bad.write_text('id = "Ikke Gyldig"\n', encoding="utf-8")

    result = run(["open", str(bad)], tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "'id' er ugyldigt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_round_gives_one_danish_line(tmp_path: Path) -> None:
    """`hoering collect` on a round that was never opened says so in one line."""
    result = run(["collect", "findes-ikke"], tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "hoering collect: ukendt høring: 'findes-ikke' (kør 'hoering open' først)"


def test_bad_now_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """--now without a UTC offset is refused."""
    result = run(["--now", "2025-10-25T08:00:00", "status", "x"], tmp_path)

    assert result.returncode != 0
    assert "UTC-offset" in result.stderr


@pytest.mark.timeout(900)
def test_demo_runs_a_whole_round_and_prints_the_outputs(tmp_path: Path) -> None:
    """`hoering demo` with no settings opens, invites, collects, closes and assembles, cleanly."""
    result = run(["demo"], tmp_path)

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    out = tmp_path / "var" / "demo" / "out" / "sof-partnerskab-demo"
    log, note = out / "sof-partnerskab-demo-hoeringslog.xlsx", out / "sof-partnerskab-demo-hoeringsnotat.docx"
    assert str(log) in result.stdout
    assert str(note) in result.stdout
    statuses = {
        row[0]: row[3] for row in load_workbook(log)["Høringsparter"].iter_rows(min_row=2, values_only=True)
    }
    assert statuses["SAND Hovedstaden"] == "Svar modtaget"
    assert statuses["Frelsens Hær"] == "Ingen bemærkninger"
    assert statuses["Mændenes Hjem"] == "Invitation ikke leveret"
    assert statuses["Foreningen af Væresteder"] == "Ikke svaret"
    text = "\n".join(p.text for p in Document(str(note)).paragraphs)
    assert "Modtagne høringssvar" in text
    assert "torsdag den 16. oktober til og med fredag den 24. oktober" in text
    assert "Projekt Udenfor" in text  # the late response, in its own section
    sent = sorted(p.name for p in (tmp_path / "var" / "demo" / "outbox").glob("*.eml"))
    assert len(sent) >= 10

    again = run(["demo"], tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "var" / "demo" / "outbox").glob("*.eml")) == sent


UNREACHABLE_ROUND = """\
id = "uden-post"
title = "Strategi for værestederne"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering@kk.example"
documents = []

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Røde Kors"
email = "kbh@roedekors.example"
"""


def test_invite_without_a_mail_server_fails_and_says_when_to_retry(tmp_path: Path) -> None:
    """SMTP unreachable: `invite` exits non-zero with one Danish line: how many wait, and from when."""
    from tests.support.smtpserver import free_port

    (tmp_path / "runde.toml").write_text(UNREACHABLE_ROUND, encoding="utf-8")
    smtp = {"HOERING_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    now = ["--now", "2025-10-16T09:00:00+02:00"]
    opened = run([*now, "open", str(tmp_path / "runde.toml")], tmp_path, settings=smtp)
    assert opened.returncode == 0, opened.stderr
    first = run([*now, "invite", "uden-post"], tmp_path, settings=smtp)
    again = run([*now, "invite", "uden-post"], tmp_path, settings=smtp)  # before the backoff is over

    for result in (first, again):
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        # the first retry comes 30-60 s after the attempt at 09.00 (equal-jitter backoff)
        assert re.fullmatch(
            r"hoering invite: 2 invitationer venter på at blive sendt, fordi mailserveren ikke kunne nås "
            r"\(0 sendt\)\. Kør hoering invite igen fra torsdag den 16\. oktober 2025 kl\. 09\.0[12], "
            r"så sendes de\.",
            lines[0],
        ), lines[0]
