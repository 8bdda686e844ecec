"""The round file and party list: valid files load; each kind of bad file is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.adapters.round_file import load_round_file
from flows.core.errors import RoundFileError

GOOD = """\
id = "sof-partnerskab-2025"
title = "Ét SOF's strategi"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering-sof@kk.example"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]
late_policy = "flag"
{parties}
"""
INLINE = """
[[parties]]
name = "SAND Hovedstaden"
email = "Sand@Example.org"

[[parties]]
name = "Røde Kors"
email = "a@roedekors.example; b@roedekors.example"
domains = ["roedekors.example"]
"""


def write(tmp_path: Path, text: str, *, document: bool = True) -> Path:
    if document:
        (tmp_path / "udkast.pdf").write_bytes(b"%PDF-1.4")
    path = tmp_path / "runde.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, **kwargs: bool) -> str:
    with pytest.raises(RoundFileError) as caught:
        load_round_file(write(tmp_path, text, **kwargs))
    return str(caught.value)


def test_valid_round_with_inline_parties_loads(tmp_path: Path) -> None:
    """A valid file gives the round, addresses normalised, several addresses split on ';'."""
    spec = load_round_file(write(tmp_path, GOOD.format(parties=INLINE)))

    assert spec.id == "sof-partnerskab-2025"
    assert spec.parties[0].emails == ("sand@example.org",)
    assert spec.parties[1].emails == ("a@roedekors.example", "b@roedekors.example")
    assert spec.parties[1].domains == ("roedekors.example",)
    assert spec.deadline.utcoffset() is not None


def test_parties_from_csv_with_semicolons_and_cp1252(tmp_path: Path) -> None:
    """A party list exported from Danish Excel (';' separated, Windows-1252) is read."""
    (tmp_path / "parter.csv").write_bytes(
        "name;email;note\nÆldrerådet;aeldre@kk.example;x\n".encode("cp1252")
    )
    spec = load_round_file(write(tmp_path, GOOD.format(parties='parties = "parter.csv"')))

    assert [p.name for p in spec.parties] == ["Ældrerådet"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t.replace('title = "Ét SOF\'s strategi"\n', ""), "'title' mangler"),
        (lambda t: t.replace('"sof-partnerskab-2025"', '"Sof Partnerskab!"'), "'id' er ugyldigt"),
        (
            lambda t: t.replace("2025-10-24T23:59:59+02:00", "2025-10-15T23:59:59+02:00"),
            "'deadline' skal ligge efter",
        ),
        (
            lambda t: t.replace("2025-10-24T23:59:59+02:00", "2025-10-24T23:59:59"),
            "'deadline' mangler UTC-offset",
        ),
        (lambda t: t.replace('late_policy = "flag"', 'late_policy = "maybe"'), "'late_policy'"),
        (lambda t: t.replace('["3d", "1d"]', '["3 dage"]'), "'reminders'"),
        (lambda t: t.replace('"hoering-sof@kk.example"', '"ikke en adresse"'), "'reply_to'"),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, edit: object, expected: str) -> None:
    """Missing field, bad id, deadline not after opens, no UTC offset… each error names the field."""
    text = edit(GOOD.format(parties=INLINE))  # type: ignore[operator]

    assert expected in problems(tmp_path, text)


def test_same_address_on_two_parties_is_refused(tmp_path: Path) -> None:
    """One address may belong to one party only; the error names both."""
    parties = INLINE.replace("a@roedekors.example", "sand@example.org")

    message = problems(tmp_path, GOOD.format(parties=parties))

    assert "sand@example.org" in message
    assert "SAND Hovedstaden" in message


def test_missing_document_is_refused(tmp_path: Path) -> None:
    """A document listed in the round file must exist."""
    assert "udkast.pdf" in problems(tmp_path, GOOD.format(parties=INLINE), document=False)


def test_unreadable_csv_is_refused_with_its_line(tmp_path: Path) -> None:
    """A party list without the needed columns, or with binary content, is refused by line."""
    (tmp_path / "parter.csv").write_text("navn,adresse\nx,y\n", encoding="utf-8")
    assert "linje 1" in problems(tmp_path, GOOD.format(parties='parties = "parter.csv"'))
    (tmp_path / "parter.csv").write_bytes(b"name,email\n\x00\xff\xfe")
    assert "parter.csv" in problems(tmp_path, GOOD.format(parties='parties = "parter.csv"'))


def test_bad_address_in_csv_names_the_line(tmp_path: Path) -> None:
    """A bad address in the CSV names its line number."""
    (tmp_path / "parter.csv").write_text("name,email\nA,a@x.example\nB,not-an-address\n", encoding="utf-8")

    assert "linje 3" in problems(tmp_path, GOOD.format(parties='parties = "parter.csv"'))


def test_a_bad_file_changes_nothing(tmp_path: Path, app: object) -> None:
    """Opening a bad file leaves the database as it was."""
    from sqlalchemy import func, select

    from flows.adapters.db.tables import RoundRow
    from flows.bootstrap import App
    from flows.services.opening import open_round

    assert isinstance(app, App)
    bad = write(tmp_path, GOOD.format(parties=INLINE).replace("+02:00\nreply", "\nreply"))
    with pytest.raises(RoundFileError):
        open_round(app, bad)
    with app.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RoundRow)) == 0


def test_address_parsing_never_escapes_with_a_parser_error() -> None:
    """A header like '@mailman.enron.com' is skipped, not a crash."""
    from flows.core.addresses import header_addresses

    assert header_addresses(["@mailman.enron.com", "Ole <Ole@Example.DK>"]) == ["ole@example.dk"]
