"""`hoering open` as a case worker meets it: a round file that reaches outside its folder, names
an unknown key or has a deadline gone by is refused in one line with a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli import run

ROUND = """\
id = "cli-runde"
title = "Strategi"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Rådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering@kk.example"
documents = [{documents}]
{extra}
[[parties]]
name = "Foreningen"
email = "forening@example.org"
"""


def round_file(tmp_path: Path, documents: str = '"udkast.pdf"', extra: str = "") -> Path:
    """A round folder with a good draft, and beside it a folder the round must not reach."""
    folder = tmp_path / "runde"
    folder.mkdir(exist_ok=True)
    (folder / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    other = tmp_path / "anden-runde"
    other.mkdir(exist_ok=True)
    (other / "hoering.sqlite3").write_bytes(b"SQLite format 3\x00 responses")
    if not (folder / "svar.pdf").is_symlink():
        (folder / "svar.pdf").symlink_to(other / "hoering.sqlite3")
    (folder / "bilag").mkdir(exist_ok=True)
    (folder / "svar.sqlite3").write_bytes(b"SQLite format 3\x00")
    path = folder / "runde.toml"
    path.write_text(ROUND.format(documents=documents, extra=extra), encoding="utf-8")
    return path


def one_line(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


@pytest.mark.parametrize(
    "entry",
    ["../../../../etc/passwd", "/etc/passwd", "svar.pdf", "bilag", "svar.sqlite3"],
    ids=["traversal", "absolute", "symlink-out", "directory", "sqlite"],
)
def test_open_refuses_a_document_that_is_not_the_rounds_own(tmp_path: Path, entry: str) -> None:
    """Traversal, an absolute path, a symlink to another round's database, a folder, a .sqlite3
    file: each ends `hoering open` with one line naming the entry and exit 1, and nothing is opened."""
    path = round_file(tmp_path, documents=f'"udkast.pdf", "{entry}"')

    result = run(["open", str(path)], tmp_path)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("hoering open: ")
    assert f"documents: {entry!r}" in line
    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").rglob("*.sqlite3"))


def test_open_refuses_an_unknown_key_naming_the_nearest(tmp_path: Path) -> None:
    """`reminder = […]` for `reminders` is refused in one line with the suggestion."""
    path = round_file(tmp_path, extra='reminder = ["3d"]')

    result = run(["open", str(path)], tmp_path)

    assert result.returncode == 1
    assert "ukendt felt 'reminder' – mente du 'reminders'?" in one_line(result.stderr)


@pytest.mark.timeout(900)
def test_open_after_the_deadline_needs_force_and_a_good_document_is_kept(tmp_path: Path) -> None:
    """With the clock past the deadline, `open` is refused in one line; with --force it opens the
    round, its own document attached, and says the deadline has passed."""
    path = round_file(tmp_path)
    late = ["--now", "2025-10-25T08:00:00+02:00", "open", str(path)]

    refused = run(late, tmp_path)

    assert refused.returncode == 1
    line = one_line(refused.stderr)
    assert "fristen for 'cli-runde' (fredag den 24. oktober 2025 kl. 23.59) er allerede overskredet" in line
    assert "--force" in line

    forced = run([*late, "--force"], tmp_path)

    assert forced.returncode == 0, forced.stderr
    assert "Høringen cli-runde er oprettet (1 høringsparter)." in forced.stdout
    assert "fristen er allerede overskredet" in forced.stderr
