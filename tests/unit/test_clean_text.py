"""clean_text: what every output shows of outside text (log, note, PDF, mail, status)."""

from __future__ import annotations

import pytest

from flows.core.quality import clean_text

HIDDEN = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings and overrides
    "\u2066", "\u2067", "\u2068", "\u2069",  # isolates
    "\u200e", "\u200f", "\u061c",  # marks
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e",  # zero-width
    "\u2062", "\u206a", "\ufff9",  # invisible operator, deprecated control, interlinear annotation
    "\U000e0001", "\U000e0041", "\U000e007f",  # tag characters ("ASCII smuggling")
]  # fmt: skip


@pytest.mark.parametrize("char", HIDDEN)
def test_invisible_controls_are_removed(char: str) -> None:
    """Each control that reorders or hides text is gone; the visible text stays in its order."""
    assert clean_text(f"faktura{char}gpj.exe") == "fakturagpj.exe"


def test_visible_text_is_kept_exactly() -> None:
    """Danish letters, tabs and line breaks, a soft hyphen, emoji and other scripts are untouched."""
    text = "Æblegrød, ø og å\tmed\nlinjeskift, blød\u00adbindestreg 👍🏻 שלום مرحبا"
    assert clean_text(text) == text


def test_characters_xml_cannot_hold_are_still_removed() -> None:
    """The XML hygiene clean_text always did: C0 controls and lone surrogates."""
    assert clean_text("a\x00b\x0bc\ud800d\uffff") == "abcd"
