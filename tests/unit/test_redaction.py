"""The redaction core: CPR numbers in every form, the look-alikes that survive, telephone numbers
in every grouping, e-mail addresses, the administration's own kept, names, staff decisions."""

from __future__ import annotations

import pytest

from flows.core.cpr import birth_date, find_cpr, modulus11
from flows.core.redaction import (
    EVERYWHERE,
    REPLACEMENT,
    Own,
    Reason,
    Redactor,
    Term,
    find_emails,
    find_phones,
    leaks,
)

OWN = Own.of_round(["hoering-sof@kk.example", "jura@kk.example"], ["Socialforvaltningen"])


@pytest.mark.parametrize(
    "text",
    [
        "010203-1234",
        "0102031234",
        "010203 1234",
        "010203.1234",
        "010203\u20131234",  # an en dash, as Word writes it
        "mit cpr-nr.:0102031234.",
        "CPR0102031234abc",  # inside a word
        "https://borger.example/sag?cpr=010203-1234&x=1",  # inside a link
        "290200-4000",  # 29 February 2000, a leap year (7th digit 4: 2000)
    ],
)
def test_every_written_form_of_a_cpr_number_is_found(text: str) -> None:
    assert len(find_cpr(text)) == 1


def test_the_century_follows_the_seventh_digit() -> None:
    assert birth_date("0101370000").year == 1937  # type: ignore[union-attr]
    assert birth_date("0101364000").year == 2036  # type: ignore[union-attr]
    assert birth_date("0101374000").year == 1937  # type: ignore[union-attr]
    assert birth_date("0101575000").year == 2057  # type: ignore[union-attr]
    assert birth_date("0101585000").year == 1858  # type: ignore[union-attr]
    assert birth_date("0101369000").year == 2036  # type: ignore[union-attr]
    assert birth_date("0101379000").year == 1937  # type: ignore[union-attr]


def test_numbers_with_and_without_the_modulus_11_check_are_both_found() -> None:
    with_check, without = "0707614285", "0707614286"
    assert modulus11(with_check) and not modulus11(without)
    assert [m.modulus11 for m in find_cpr(f"{with_check} og {without}")] == [True, False]


@pytest.mark.parametrize(
    "text",
    [
        "Ordre 3245678901",  # day 32
        "Faktura 0113201234",  # month 13
        "2902011234",  # 29 February 1901: not a leap year
        "290200-1000",  # 29 February 1900 (7th digit 1): not a leap year either
        "+4512345678",  # a telephone number with its prefix: day 45
        "Beløb 1503201234 kr.",  # an amount
        "DKK 1503201234",
        "12345678901",  # eleven digits: no ten-digit number is cut out of it
        "boundary=1310345634.1417873381072",  # a timestamp in a chain of numbers
        "1890480597-1109024248-1527065079",
        "16.10.2025 kl. 10.00",
    ],
)
def test_look_alikes_that_cannot_be_a_cpr_number_survive(text: str) -> None:
    assert find_cpr(text) == []
    assert Redactor(OWN).redact(text, "Høringssvar 1") == text


@pytest.mark.parametrize(
    "text",
    [
        "22345678",
        "22 34 56 78",
        "2234 5678",
        "223 45 678",
        "22-34-56-78",
        "22.34.56.78",
        "+45 22 34 56 78",
        "+4522345678",
        "0045 2234 5678",
        "(+45) 22345678",
        "tel:+4540506070",
        "Tlf: 22 345 678",  # a grouping that is an amount's, but it says telephone
        "mobil:22345678",
    ],
)
def test_danish_telephone_numbers_in_any_grouping_are_found(text: str) -> None:
    assert len(find_phones(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "CVR 22345678",  # an organisation's number is public, and not a telephone
        "Sag nr. 22345678",
        "Faktura 45678901",
        "Beløb 22.345.678",
        "22 345 678",  # thousands
        "45 67 89 01 kr",
        "dato 16-10-2025",
        "2025-10-16",
        "12345678",  # Danish numbers begin with 2-9
        "2 3 4 5 6 7 8 9",  # a list of digits
        "223456789",  # nine digits
    ],
)
def test_telephone_look_alikes_survive(text: str) -> None:
    assert find_phones(text) == []


def test_the_administrations_own_addresses_and_numbers_are_kept() -> None:
    text = (
        "Jeg skrev til hoering-sof@kk.example og Jura@KK.example og sagsbehandler@bydel.kk.example\n"
        "Socialforvaltningen, tlf. 33 66 33 66\n"
        "Svar til hoering-sof@kk.example eller ring 33 66 44 44\n"
        "Min egen: jens@privat.example, 22 33 44 55"
    )
    out = Redactor(OWN).redact(text, "Høringssvar 1")
    assert "hoering-sof@kk.example" in out and "Jura@KK.example" in out
    assert "sagsbehandler@bydel.kk.example" in out  # a subdomain of the administration's
    assert "33 66 33 66" in out and "33 66 44 44" in out
    assert "jens@privat.example" not in out and "22 33 44 55" not in out


def test_a_webmail_reply_to_does_not_make_every_webmail_address_the_administrations() -> None:
    own = Own.of_round(["hoering.kommune@gmail.com"], [])
    assert [f.found for f in find_emails("a@gmail.com og hoering.kommune@gmail.com", own)] == ["a@gmail.com"]


def test_emails_in_links_and_words_are_found() -> None:
    found = find_emails("mailto:jens.hansen+høring@privat.example?subject=x og (mette@æble.dk).", OWN)
    assert [f.found for f in found] == ["jens.hansen+høring@privat.example", "mette@æble.dk"]


def test_redaction_replaces_and_records_each_find_once_per_place() -> None:
    redactor = Redactor(OWN)
    names = [Term("Jens  Hansen", "Borger 1", Reason.NAME)]
    text = "CPR 010203-1234, igen 010203-1234.\nMed venlig hilsen\nJens Hansen\njens@privat.example"
    out = redactor.redact(text, "Høringssvar 4", names)
    assert out == (
        f"CPR {REPLACEMENT[Reason.CPR]}, igen {REPLACEMENT[Reason.CPR]}.\nMed venlig hilsen\n"
        f"Borger 1\n{REPLACEMENT[Reason.EMAIL]}"
    )
    rows = [(e.place, e.found, e.reason) for e in redactor.ledger.rows()]
    assert rows == [
        ("Høringssvar 4", "010203-1234", Reason.CPR),
        (EVERYWHERE, "Jens  Hansen", Reason.NAME),
        ("Høringssvar 4", "jens@privat.example", Reason.EMAIL),
    ]


def test_a_find_staff_marked_vis_stays_and_is_recorded_as_shown() -> None:
    redactor = Redactor(OWN, shown=[("Høringssvar 2", "22 33 44 55")])
    out = redactor.redact("Ring 22 33 44 55 eller 22 33 44 56", "Høringssvar 2")
    assert out == f"Ring 22 33 44 55 eller {REPLACEMENT[Reason.PHONE]}"
    assert [(e.found, e.shown) for e in redactor.ledger.rows()] == [
        ("22 33 44 55", True),
        ("22 33 44 56", False),
    ]
    # Vis belongs to the place it was written for
    assert "22 33 44 55" not in redactor.redact("Ring 22 33 44 55", "Høringssvar 3")


def test_staff_text_is_hidden_everywhere_or_in_its_own_place() -> None:
    terms = [
        Term("Skovvej 12", "[adresse]", Reason.STAFF),
        Term("diagnose", "[udeladt]", Reason.STAFF, "Høringssvar 1"),
    ]
    redactor = Redactor(OWN, terms)
    assert redactor.redact("Jeg bor på Skovvej 12 og min diagnose", "Høringssvar 1") == (
        "Jeg bor på [adresse] og min [udeladt]"
    )
    assert redactor.redact("Skovvej 12, diagnose", "Høringssvar 2") == "[adresse], diagnose"


def test_a_shown_address_does_not_let_the_cpr_number_in_it_through() -> None:
    redactor = Redactor(OWN, shown=[("Høringssvar 1", "0102031234@privat.example")])
    out = redactor.redact("skriv til 0102031234@privat.example", "Høringssvar 1")
    assert "0102031234" not in out


def test_the_gate_refuses_any_cpr_number_even_one_staff_chose_to_show() -> None:
    assert [leak.what for leak in leaks("sag 010203-1234", OWN, frozenset({"010203-1234"}))] == [
        "et CPR-nummer"
    ]
    assert [leak.what for leak in leaks("skriv til a@privat.example", OWN)] == ["en e-mailadresse"]
    assert leaks("skriv til a@privat.example", OWN, frozenset({"a@privat.example"})) == []
    assert leaks("hoering-sof@kk.example, ordre 3245678901", OWN) == []
