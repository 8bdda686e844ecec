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


# --------------------------------------------------------------------------- issue 17: own documents only


def outside_file(tmp_path: Path, name: str = "hemmelig.pdf", data: bytes = b"%PDF-1.4 secret") -> Path:
    """A readable file beside, not inside, the round's folder."""
    outside = tmp_path / "andet"
    outside.mkdir(exist_ok=True)
    (outside / name).write_bytes(data)
    return outside / name


def round_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "runde"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("../../../../etc/passwd", "uden for rundefilens mappe"),
        ("/etc/passwd", "absolut sti"),
        ("link.pdf", "uden for rundefilens mappe"),  # a symlink in the folder to a file outside
        ("linket/hemmelig.pdf", "uden for rundefilens mappe"),  # a symlinked parent folder
        ("bilag", "ikke en almindelig fil"),  # a directory
        ("svar.sqlite3", "ikke et dokument af typen"),
        ("db.pdf", "ikke et dokument af typen"),  # a link inside the folder, to a database
        ("forklædt.pdf", "passer ikke til filtypen"),  # a database renamed to .pdf
    ],
)
def test_a_document_outside_the_round_or_not_a_draft_is_refused(
    tmp_path: Path, entry: str, expected: str
) -> None:
    """documents may only name regular .pdf/.docx/.odt/.xlsx files inside the round's folder."""
    folder = round_folder(tmp_path)
    secret = outside_file(tmp_path)
    (folder / "link.pdf").symlink_to(secret)
    (folder / "linket").symlink_to(secret.parent, target_is_directory=True)
    (folder / "bilag").mkdir()
    (folder / "svar.sqlite3").write_bytes(b"SQLite format 3\x00")
    (folder / "db.pdf").symlink_to(folder / "svar.sqlite3")
    (folder / "forklædt.pdf").write_bytes(b"SQLite format 3\x00")
    text = GOOD.format(parties=INLINE).replace('["udkast.pdf"]', f'["udkast.pdf", "{entry}"]')

    message = problems(folder, text)

    assert expected in message
    assert repr(entry) in message  # the refused entry is named
    assert "\n" not in message


def test_documents_inside_the_folder_are_kept_with_their_real_paths(tmp_path: Path) -> None:
    """A good document, in a subfolder or behind a link that stays inside, is accepted."""
    folder = round_folder(tmp_path)
    (folder / "bilag").mkdir()
    (folder / "bilag" / "plan.docx").write_bytes(b"PK\x03\x04 docx")
    (folder / "genvej.docx").symlink_to(folder / "bilag" / "plan.docx")
    text = GOOD.format(parties=INLINE).replace(
        '["udkast.pdf"]', '["udkast.pdf", "bilag/plan.docx", "genvej.docx"]'
    )

    spec = load_round_file(write(folder, text))

    real = str((folder / "bilag" / "plan.docx").resolve())
    assert spec.documents == (str((folder / "udkast.pdf").resolve()), real, real)


@pytest.mark.parametrize("entry", ["../parter.csv", "ABSOLUTE", "link.csv"])
def test_a_party_list_outside_the_round_is_refused(tmp_path: Path, entry: str) -> None:
    """`parties = "…"` must also name a file inside the round's folder (each of these exists)."""
    folder = round_folder(tmp_path)
    outside = outside_file(tmp_path, "parter.csv", b"name,email\nA,a@x.example\n")
    (tmp_path / "parter.csv").write_bytes(outside.read_bytes())
    (folder / "link.csv").symlink_to(outside)
    entry = str(outside) if entry == "ABSOLUTE" else entry

    message = problems(folder, GOOD.format(parties=f'parties = "{entry}"'))

    assert "parties" in message
    assert repr(entry) in message


# --------------------------------------------------------------------------- issue 17: unknown keys, UTF-16


def test_an_unknown_key_is_refused_with_the_nearest_known_one(tmp_path: Path) -> None:
    """`reminder` for `reminders` (no reminder would ever be sent) is refused with a suggestion."""
    text = GOOD.format(parties=INLINE).replace('reminders = ["3d", "1d"]', 'reminder = ["3d", "1d"]')

    assert "ukendt felt 'reminder' – mente du 'reminders'?" in problems(tmp_path, text)


def test_unknown_keys_in_a_party_and_danish_keys_are_named(tmp_path: Path) -> None:
    """A party's `mail` is refused naming the party and `email`; a Danish `frist` suggests `deadline`."""
    parties = INLINE.replace('email = "Sand@Example.org"', 'mail = "Sand@Example.org"')
    text = GOOD.format(parties='frist = "2025-10-24"\nxyzzy = 1\n' + parties)

    message = problems(tmp_path, text)

    assert "parties[0]: ukendt felt 'mail' – mente du 'email'?" in message
    assert "ukendt felt 'frist' – mente du 'deadline'?" in message
    assert "ukendt felt 'xyzzy' (kendte felter: id, title" in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_csv_is_read(tmp_path: Path, encoding: str) -> None:
    """Excel's "Unicode-tekst" (UTF-16 with a BOM, tab-separated) and BOM-less UTF-16 are read."""
    text = (
        "Navn\tE-mail\nÆldrerådet\taeldre@kk.example\nØstbro Lokaludvalg\tostbro@kk.example; b@kk.example\n"
    )
    (tmp_path / "parter.csv").write_bytes(text.encode(encoding))

    spec = load_round_file(write(tmp_path, GOOD.format(parties='parties = "parter.csv"')))

    assert [p.name for p in spec.parties] == ["Ældrerådet", "Østbro Lokaludvalg"]
    assert spec.parties[1].emails == ("ostbro@kk.example", "b@kk.example")


def test_a_broken_utf16_csv_says_it_is_utf16(tmp_path: Path) -> None:
    """UTF-16 that cannot be decoded (cut in the middle of a character) is named as UTF-16."""
    (tmp_path / "parter.csv").write_bytes("name,email\nA,a@x.example\n".encode("utf-16") + b"\x00")

    assert "UTF-16" in problems(tmp_path, GOOD.format(parties='parties = "parter.csv"'))


def test_danish_headings_and_a_title_line_in_csv(tmp_path: Path) -> None:
    """A CSV with a title line and Danish headings (Høringspart before a contact's Navn) is read."""
    (tmp_path / "parter.csv").write_text(
        "Partsliste for høringen;;\nHøringspart;Navn;E-mail;Privatperson\n"
        "Ældrerådet;Ole Olsen;aeldre@kk.example;nej\nJens Hansen;;jens@post.example;ja\n",
        encoding="utf-8",
    )

    spec = load_round_file(write(tmp_path, GOOD.format(parties='parties = "parter.csv"')))

    assert [(p.name, p.person) for p in spec.parties] == [("Ældrerådet", False), ("Jens Hansen", True)]


# --------------------------------------------------------------------------- the contract's new keys


def test_new_keys_are_read_with_their_defaults(tmp_path: Path) -> None:
    """note_layout, kle, facet and retention are read; left out, they take the contract's defaults."""
    plain = load_round_file(write(tmp_path, GOOD.format(parties=INLINE)))
    extra = 'note_layout = "by_section"\nkle = "00.01.00"\nfacet = "g01"\nretention = "P18M"\n'
    full = load_round_file(write(tmp_path, GOOD.format(parties=extra + INLINE)))

    assert (plain.note_layout, plain.kle, plain.facet, plain.retention) == ("by_party", None, None, "P5Y")
    assert (full.note_layout, full.kle, full.facet, full.retention) == (
        "by_section",
        "00.01.00",
        "G01",
        "P18M",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('note_layout = "by_chapter"', "'note_layout' skal være"),
        ('kle = "1.2.3"', "'kle' har ikke den rette form"),
        ("kle = 1.2", "'kle' har ikke den rette form"),
        ('facet = "G1"', "'facet' har ikke den rette form"),
        ('retention = "5 år"', "'retention' skal være en ISO 8601-varighed"),
        ('retention = "P0Y"', "'retention' skal være en ISO 8601-varighed"),
        ('retention = "PT"', "'retention' skal være en ISO 8601-varighed"),
    ],
)
def test_new_keys_of_the_wrong_form_are_refused(tmp_path: Path, line: str, expected: str) -> None:
    """Each of the new keys is checked for its form, and the error names it."""
    assert expected in problems(tmp_path, GOOD.format(parties=line + "\n" + INLINE))


@pytest.mark.parametrize(
    ("party", "expected"),
    [
        ('name = "To\\nlinjer"\nemail = "o@x.example"', "linjeskift"),
        ('name = "Lang"\nemail = "o@x.example"\nperson = "måske"', "'person' skal være ja eller nej"),
    ],
)
def test_party_names_with_control_characters_and_bad_person_are_refused(
    tmp_path: Path, party: str, expected: str
) -> None:
    """A name with a newline, or a `person` that is no yes/no, is refused."""
    assert expected in problems(tmp_path, GOOD.format(parties=f"[[parties]]\n{party}\n"))


def test_invisible_characters_in_a_party_name_are_dropped(tmp_path: Path) -> None:
    """A right-to-left override or zero-width space pasted into a name is dropped, not refused."""
    party = '[[parties]]\nname = "Ond\\u202eFor\\u200bening"\nemail = "o@x.example"\n'
    spec = load_round_file(write(tmp_path, GOOD.format(parties=party)))

    assert [p.name for p in spec.parties] == ["OndForening"]


def test_the_separator_comes_from_the_header_row(tmp_path: Path) -> None:
    """A comma-separated list whose rows hold several ';'-separated addresses keeps ',' as separator."""
    many = ";".join(f"{n}@rk.example" for n in "abcde")
    (tmp_path / "parter.csv").write_text(
        f'name,email,domains\n"Røde Kors, Amager",{many},\nDanner,{many.replace("rk", "dn")},\n',
        encoding="utf-8",
    )  # more ';' than ',' in the file as a whole

    spec = load_round_file(write(tmp_path, GOOD.format(parties='parties = "parter.csv"')))

    assert [(p.name, len(p.emails)) for p in spec.parties] == [("Røde Kors, Amager", 5), ("Danner", 5)]
