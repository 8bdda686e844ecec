"""split_answer and is_no_remarks: the sender's own words, and "no remarks" detection."""

from __future__ import annotations

import pytest

from flows.core import bodytext
from flows.core.bodytext import is_no_remarks, normalise_whitespace, split_answer, strip_controls

# --- split_answer --------------------------------------------------------------------------------


def test_plain_text_unchanged() -> None:
    """Text without quotes, reply headers or signature comes back as it was."""
    text = "Vi støtter strategien.\n\nAfsnit 3 bør dog udvides."
    assert split_answer(text) == text


def test_quoted_lines_removed() -> None:
    """Lines starting with '>' are removed."""
    assert split_answer("Enig.\n> Har I bemærkninger?\n> Mvh Kommunen") == "Enig."


@pytest.mark.parametrize(
    "header",
    [
        "-----Original Message-----",
        "-----Oprindelig meddelelse-----",
        "Fra: Kommunen <hoering@kk.example>\nSendt: 10. oktober 2025 09:00\nTil: Hans",
        "________________________________\nFra: Kommunen <hoering@kk.example>\nDato: 10. oktober 2025",
        "Den 10. okt. 2025 kl. 09.00 skrev Kommunen <hoering@kk.example>:",
        "Den fre. 10. okt. 2025 kl. 09.00 skrev Kommunen <\nhoering@kk.example>:",
        "On Fri, Oct 10, 2025 at 9:00 AM Kommunen <hoering@kk.example> wrote:",
    ],
)
def test_reply_header_and_history_removed(header: str) -> None:
    """Outlook, Gmail and Apple reply headers cut off everything after them."""
    text = f"Vi har én bemærkning.\n\n{header}\n\nKære høringspart\nSe vedhæftede udkast."
    assert split_answer(text) == "Vi har én bemærkning."


def test_inline_answers_kept() -> None:
    """Own lines written between quoted blocks are kept, the quotes removed."""
    text = (
        "On Fri, Oct 10, 2025 at 9:00 AM Kommunen <hoering@kk.example> wrote:\n"
        "> Spørgsmål 1?\nSvar 1.\n> Spørgsmål 2?\nSvar 2.\n"
    )
    assert split_answer(text) == "Svar 1.\nSvar 2."


def test_signature_after_dashes_removed() -> None:
    """A short tail after a lone '-- ' line is taken as a signature."""
    assert split_answer("Enig i forslaget.\n-- \nHans Hansen\nFormand") == "Enig i forslaget."


def test_danish_closing_removed() -> None:
    """A short signature after 'Med venlig hilsen' is removed."""
    text = "Vi bakker op om strategien.\n\nMed venlig hilsen\nHans Hansen\nSAND Hovedstaden"
    assert split_answer(text) == "Vi bakker op om strategien."


def test_long_tail_after_closing_is_kept() -> None:
    """A closing followed by a long tail is not a signature: nothing is cut."""
    tail = "\n".join(f"Punkt {i}: en længere faglig bemærkning om afsnittet." for i in range(20))
    text = f"Indledning.\nMvh\n{tail}"
    assert split_answer(text) == text


def test_all_quoted_returns_full_text() -> None:
    """When stripping would leave nothing, the full text is returned."""
    text = "> kun citat\n> intet svar"
    assert split_answer(text) == text


def test_forward_separator_is_not_cut() -> None:
    """A forwarded-message separator is not a reply header: the forwarded text stays."""
    text = "Se nedenfor.\n\n---------- Forwarded message ---------\nFra: Part\n\nVores svar."
    assert "Vores svar." in split_answer(text)


# --- is_no_remarks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Ingen bemærkninger",
        "Ingen bemærkninger.",
        "INGEN BEMÆRKNINGER!",
        "Vi har ingen bemærkninger til høringen",
        "Ingen kommentarer",
        "Intet at bemærke.",
        "Ikke noget at bemærke",
        "Vi har ikke bemærkninger.",
        "Vi har ikke nogen bemærkninger til forslaget.",
        "Vi har ingen yderligere bemærkninger.",
        "Hej\n\nTak for høringsmaterialet. SAND Hovedstaden har ingen bemærkninger til strategien."
        "\n\nMed venlig hilsen\nHans Hansen\nFormand",
        "Kære Socialforvaltningen\n\nRådet har ingen bemærkninger.\n\nVenlig hilsen\nSekretariatet",
    ],
)
def test_no_remarks_true(text: str) -> None:
    """Short answers that only say 'no remarks' (with greeting/signature) are recognised."""
    assert is_no_remarks(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Vi støtter strategien.",
        "Ingen bemærkninger, men vi savner et afsnit om frivillige.",
        "Vi har ingen bemærkninger til afsnit 1, dog bør afsnit 2 omskrives.",
        "Vi har følgende bemærkninger: afsnittet om frivillige er for kort.",
        "Ingen bemærkninger til afsnit 1. " + "Afsnit 2 bør uddybes med konkrete mål og midler. " * 6,
    ],
)
def test_no_remarks_false(text: str) -> None:
    """Substantive answers, or 'no remarks' followed by a 'men'/'dog' clause, are not 'no remarks'."""
    assert not is_no_remarks(text)


# --- helpers -------------------------------------------------------------------------------------


def test_strip_controls() -> None:
    """CRLF becomes LF, C1 is read as cp1252, other controls and a BOM go."""
    assert strip_controls("\ufeffa\r\nb\x00c\x80\x93d\x94\te") == "a\nbc€“d”\te"


def test_normalise_whitespace() -> None:
    """Runs of whitespace become one space."""
    assert normalise_whitespace("  a\r\n\t b  ") == "a b"


NO_REMARKS_PHRASES = (
    [
        f"{lead} {noun}"
        for lead in ("ingen", "ikke nogen", "ingen yderligere", "ikke har nogen særlige")
        for noun in ("bemærkninger", "kommentar", "indvendinger", "indsigelse", "tilføjelser")
    ]
    + [
        f"{lead} {verb}"
        for lead in ("intet at", "ikke noget yderligere at", "ingenting at")
        for verb in ("bemærke", "tilføje", "kommentere", "indvende", "udsætte")
    ]
    + ["No further comments", "no remarks", "NO OBJECTIONS", "INGEN BEMÆRKNINGER"]
)


@pytest.mark.parametrize("phrase", NO_REMARKS_PHRASES)
def test_every_no_remarks_phrase_passes_the_quick_check(phrase: str) -> None:
    """The stem check that skips the reply split never turns away a phrase the full rule accepts."""
    assert bodytext._NO_REMARKS.search(phrase)
    assert bodytext._NO_REMARKS_STEMS.search(phrase)
    assert is_no_remarks(f"Hej\n\n{phrase}.\n\nMvh\nOle")
