"""trim_reply: the party's own words, measured on the labelled Danish and Nordic replies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.adapters.mailparse import parse_message
from flows.core.trim import trim_reply
from tests.support.replies import REPLIES, labelled_replies, scores, similarity

GOAL = 0.9


def test_labelled_replies_mean_similarity_reaches_the_goal() -> None:
    """At least 60 labelled replies; the kept text matches the golden answer at a mean of ≥ 0.9."""
    replies = labelled_replies()
    assert len(replies) >= 60
    got = scores(trim_reply, replies)
    mean = sum(got.values()) / len(got)
    worst = sorted(got.items(), key=lambda kv: kv[1])[:5]
    assert mean >= GOAL, f"mean {mean:.3f}; worst {worst}"


@pytest.mark.parametrize(
    "header",
    [
        "Den 15. jun. 2016 kl. 20.42 skrev Hans Hansen <hans@example.org>:",
        "Den ons. 15. jun. 2016 kl. 20.42 skrev Hans Hansen <hans@example.org>:",
        "15. jun. 2016 kl. 20:42 skrev Hans Hansen <hans@example.org>:",
        "Am 15.06.2016 um 20:42 schrieb Hans Hansen <hans@example.org>:",
        "Hans Hansen <hans@example.org> kirjoitti 15.6.2016 klo 20.42:",
        "Da: Kommunen <hoering@kk.example>\nInviato: mercoledì 15 giugno 2016 20:42\nA: Hans\nOggetto: Høring",
        "Von: Kommunen <hoering@kk.example>\nGesendet: Mittwoch, 15. Juni 2016 20:42\nAn: Hans",
        "Från: Kommunen <hoering@kk.example>\nSkickat: den 15 juni 2016 20:42\nTill: Hans",
        "De : Kommunen <hoering@kk.example>\nEnvoyé : mercredi 15 juin 2016 20:42\nÀ : Hans",
        "*Fra:* Kommunen <hoering@kk.example>\n*Sendt:* 15. juni 2016 20:42\n*Til:* Hans",
    ],
)
def test_reply_headers_in_the_languages_danish_offices_receive(header: str) -> None:
    """Apple Mail's Danish line and Outlook's block in other languages cut the history off."""
    text = f"Vi støtter forslaget.\n\n{header}\n\nKære høringspart\nSe vedhæftede udkast."
    assert trim_reply(text) == "Vi støtter forslaget."


@pytest.mark.parametrize(
    "footer",
    [
        "Sendt fra min iPad",
        "Sendt fra min iPhone",
        "Skickat från min iPhone",
        "Von meinem iPhone gesendet",
        "Inviato da iPhone",
        "Envoyé de mon iPhone",
        "Sent from my Galaxy",
        "Sendt fra Mail til Windows",
        "Hent Outlook til Android<https://aka.ms/AAb9ysg>",
    ],
)
def test_mobile_footers_are_not_part_of_the_answer(footer: str) -> None:
    assert trim_reply(f"Ingen bemærkninger herfra.\n\n{footer}\n") == "Ingen bemærkninger herfra."


@pytest.mark.parametrize(
    "signoff",
    [
        "Med venlig hilsen\nMette Jørgensen\nFormand, Ungdomsrådet\nTlf. 22 33 44 55",
        "Venlig hilsen\nLise",
        "Mvh. Jens Peter Kristensen, formand",
        "Bedste hilsner\nDitte\nLektiecafé Nørrebro",
        "Vh /Lone",
        "Best regards / Venlig hilsen\nPeter",
        "Med vänliga hälsningar\nKarin Lindqvist\nUtredare",
        "Anders Lund\nCenterleder | Kulturhuset\nTlf. 33 66 12 34 | Mobil 21 43 65 87",
        "Venlig hilsen\nBirgitte Holm\n\nDenne e-mail kan indeholde fortrolige oplysninger. Hvis du ikke er "
        "den rette modtager, bedes du slette den og give afsenderen besked om fejlen med det samme.",
    ],
)
def test_signoff_signature_and_disclaimer_are_cut(signoff: str) -> None:
    text = f"Vi foreslår, at åbningstiden udvides.\n\n{signoff}\n"
    assert trim_reply(text) == "Vi foreslår, at åbningstiden udvides."


def test_replies_nested_without_quote_marks_keep_only_the_newest() -> None:
    """Three Apple Mail levels with no '>' at all: only the top answer stays."""
    text = (
        "Endeligt svar: vi støtter forslaget.\n\nDen 20. okt. 2025 kl. 14.10 skrev Kommunen <h@kk.example>:\n\n"
        "Tak.\n\nDen 19. okt. 2025 kl. 18.03 skrev Bo <bo@example.org>:\n\nSvar i morgen.\n"
    )
    assert trim_reply(text) == "Endeligt svar: vi støtter forslaget."


def test_a_greeting_inside_a_sentence_is_not_a_signoff() -> None:
    text = (
        "Vi sender en venlig hilsen til arbejdsgruppen.\nVi har dog en bemærkning om afsnit 7.\n\nMvh\nKaren"
    )
    assert (
        trim_reply(text)
        == "Vi sender en venlig hilsen til arbejdsgruppen.\nVi har dog en bemærkning om afsnit 7."
    )


def test_the_full_body_is_kept_beside_the_trimmed_answer() -> None:
    """The parser stores the whole body; only the answer is trimmed (nothing lost when a trim is wrong)."""
    parsed = parse_message((REPLIES / "66-qp-latin1.eml").read_bytes())
    assert parsed.answer_text == "Vi ønsker, at stien langs Åen bevares."
    assert "Formand, Naturfredningsforeningen" in parsed.body_text
    assert "Emne: Høring" in parsed.body_text


# The 64 public replies with golden answers (discourse/email_reply_trimmer, test/emails and
# test/trimmed), read in place when present; the figure before this trimmer was a mean of 0.67.
# Their golden answers keep the sign-off ("Best regards, Name"), which the note leaves out, so the
# bar there is "no worse than before", not the 0.9 of our own labelled set.
_PUBLIC = Path(os.environ.get("HOERING_REPLY_CORPUS", "/work/shared/corpora/email_reply_trimmer/test"))


@pytest.mark.skipif(
    not (_PUBLIC / "trimmed").is_dir(), reason=f"public reply corpus not present at {_PUBLIC}"
)
def test_public_replies_are_trimmed_no_worse_than_before() -> None:
    pairs = [(p, _PUBLIC / "trimmed" / p.name) for p in sorted((_PUBLIC / "emails").glob("*.txt"))]
    got = [
        similarity(trim_reply(e.read_text(encoding="utf-8")), t.read_text(encoding="utf-8"))
        for e, t in pairs
        if t.exists()
    ]
    assert got
    assert sum(got) / len(got) >= 0.67


def test_an_answer_below_the_one_passage_kept_quoted_is_kept() -> None:
    """A reply header, one quoted passage, then the answer: the answer is not cut with the history."""
    text = (
        "Hallo Vorname,\n\nAm 13.05.2026 um 09:05 schrieb Vorname Nachname:\n> Der zitierte Text.\n\n"
        "Hier ist der Antworttext.\n\nViele Grüße\nVorname Nachname\n"
    )
    assert trim_reply(text) == "Hallo Vorname,\n\nHier ist der Antworttext."


@pytest.mark.parametrize(
    "text",
    [
        "Perioden er:\nFra: 1. januar 2026\nTil: 31. marts 2026\nDerefter evalueres ordningen.",
        "Vi henviser til:\nBest Practice Guide\nKapitel 2\nKapitel 3",
        "Vi foreslår følgende ændring.\nTak Hans for et godt møde\nPunkt 1\nPunkt 2",
    ],
)
def test_lines_that_only_look_like_headers_or_closings_are_kept(text: str) -> None:
    """Errs on keeping: a period "Fra: … Til: …" and a line starting "Best" or "Tak" are the answer."""
    assert trim_reply(text) == text
