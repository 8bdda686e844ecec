"""Modified UTF-7 (RFC 3501 §5.1.3) and folder names on the wire: pure logic, no server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.adapters import imap_utf7
from flows.adapters.imap_folders import (
    FolderNameError,
    delimiter_of,
    parse_list,
    quote,
    same_folder,
    server_path,
    wire_name,
)

# text a mailbox can be named: any code point but lone surrogates
names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        # RFC 3501 §5.1.3's own example (台北 and 日本語)
        ("~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
        ("Høringssvar", "H&APg-ringssvar"),
        ("Høringssvar/Behandlet", "H&APg-ringssvar/Behandlet"),
        ("Æbler & Ørred", "&AMY-bler &- &ANg-rred"),
        ("Ærø", "&AMY-r&APg-"),  # two shifted runs, the second at the end
        ("æøå", "&AOYA+ADl-"),  # one run of three: '+' stays, only '/' becomes ','
        ("R&D", "R&-D"),
        ("INBOX", "INBOX"),
        ("\U0001f600", "&2D3eAA-"),  # beyond the BMP: a UTF-16 surrogate pair
    ],
)
def test_known_names(text: str, wire: str) -> None:
    assert imap_utf7.encode(text) == wire
    assert imap_utf7.decode(wire) == text
    assert imap_utf7.decode(wire.encode("ascii")) == text


@given(names)
def test_round_trip(text: str) -> None:
    wire = imap_utf7.encode(text)
    assert all(0x20 <= ord(c) <= 0x7E for c in wire)
    assert imap_utf7.decode(wire) == text
    assert imap_utf7.encode(imap_utf7.decode(wire)) == wire  # one spelling per name


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E).filter(lambda c: c != "&")))
def test_printable_ascii_stands_for_itself(text: str) -> None:
    assert imap_utf7.encode(text) == text


@pytest.mark.parametrize(
    "wire",
    [
        "H&APg",  # no closing '-'
        "&APg=-",  # padding is not written
        "&A/g-",  # '/' is ',' in this base64
        "&AEE-",  # 'A' shifted: printable ASCII must stand for itself
        "&AP-",  # 12 bits: not whole UTF-16 units
        "H\u00f8ringssvar",  # 8-bit text is not modified UTF-7
    ],
)
def test_malformed_names_are_refused(wire: str) -> None:
    with pytest.raises(imap_utf7.ImapUtf7Error):
        imap_utf7.decode(wire)


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(imap_utf7.ImapUtf7Error):
        imap_utf7.encode("a\ud800b")


@pytest.mark.parametrize(
    ("folder", "delimiter", "wire"),
    [
        ("Høringssvar/Behandlet", "/", '"H&APg-ringssvar/Behandlet"'),
        ("Høringssvar/Behandlet", ".", '"H&APg-ringssvar.Behandlet"'),
        ("Æbler & Ørred", ".", '"&AMY-bler &- &ANg-rred"'),
        ('Svar "2025"\\x', "/", '"Svar \\"2025\\"\\\\x"'),
        ("inbox", ".", '"INBOX"'),
        ("a/b", None, '"a/b"'),  # a flat server: one level
    ],
)
def test_wire_names(folder: str, delimiter: str | None, wire: str) -> None:
    assert wire_name(folder, delimiter) == wire


@pytest.mark.parametrize(
    ("folder", "delimiter"),
    [("Høringssvar/Svar 1.2", "."), ("Høringssvar//Behandlet", "/"), ("/Høringssvar", "."), ("a/", "/")],
)
def test_folders_the_server_cannot_hold_are_refused(folder: str, delimiter: str) -> None:
    with pytest.raises(FolderNameError, match="IMAP-mappen"):
        server_path(folder, delimiter)


def test_parse_list_quoted_atom_literal_and_nil() -> None:
    data: list[object] = [
        b'(\\HasChildren) "." "H&APg-ringssvar"',
        b'(\\HasNoChildren \\Marked) "." H&APg-ringssvar.Behandlet',
        (b'(\\HasNoChildren) "." {22}', b"&AMY-bler &- &ANg-rred"),
        b'(\\Noselect) NIL "Flat/Name"',
        b'(\\HasNoChildren) "\\\\" "Svar\\\\2025"',
        b"garbage",
        None,
    ]
    listed = parse_list(data)
    assert [f.name for f in listed] == [
        "Høringssvar",
        "Høringssvar/Behandlet",
        "Æbler & Ørred",
        "Flat/Name",
        "Svar/2025",
    ]
    assert [f.delimiter for f in listed] == [".", ".", ".", None, "\\"]
    assert listed[0].wire == "H&APg-ringssvar"
    assert listed[1].flags == {"\\hasnochildren", "\\marked"}


def test_delimiter_of_the_namespace() -> None:
    assert delimiter_of([b'(\\Noselect) "." ""']) == "."
    assert delimiter_of([b'(\\Noselect) "/" ""']) == "/"
    assert delimiter_of([b'(\\Noselect) NIL ""']) is None
    assert delimiter_of([None]) == "/"


def test_same_folder() -> None:
    assert same_folder("INBOX/Behandlet", "inbox/Behandlet")
    assert not same_folder("Høringssvar/behandlet", "Høringssvar/Behandlet")
    assert not same_folder("Høringssvar", "Høringssvar/Behandlet")


def test_quote() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
