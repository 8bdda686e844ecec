"""The public twin of an Assembly: pseudonyms in order of receipt, organisations named, every text
redacted, and the gate that looks at everything the public documents show."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from flows.core.assembly import Assembly, StaffNote
from flows.core.public_version import Sender, gate, public_assembly
from flows.core.redaction import EVERYWHERE, Own, Redactor
from tests.factories import make_round, party, remark, response

OWN = Own.of_round(["hoering-sof@kk.example"], ["Socialforvaltningen"])


def _assembly() -> Assembly:
    # Received out of number order: Mette (3) writes before Jens (1); Jens writes twice.
    jens = response(1, "Jens Hansen", "Jeg er imod.\nMed venlig hilsen\nJens Hansen", minutes=300)
    club = response(2, "Boldklubben", "Vi støtter. Ring 22 33 44 55.", minutes=200)
    mette = response(3, "mette@privat.example", "Min cpr 070761-4285.", minutes=100)
    again = response(4, "Jens Hansen", "Og så en ting til, Jens Hansen", minutes=400)
    responses = [mette, club, jens, again]
    notes = {"1.1": StaffNote(reply="Vi har ringet til Jens på 22 33 44 66.")}
    parties = [party("Jens Hansen"), party("Boldklubben"), party("Anne Nabo", responses=0)]
    return Assembly(make_round(), datetime(2025, 10, 30, tzinfo=UTC), parties, responses,
                    [remark(r) for r in responses], [], notes)  # fmt: skip


SENDERS = {
    1: Sender("party:1", True, ("Jens Hansen",)),
    4: Sender("party:1", True, ("Jens Hansen",)),
    2: Sender("party:2", False, ()),
    3: Sender("sender:mette@privat.example", True, ()),
}


def test_private_persons_are_numbered_in_order_of_receipt_and_organisations_keep_their_names() -> None:
    public = public_assembly(_assembly(), SENDERS, ["Jens Hansen", "Anne Nabo"], {}, Redactor(OWN)).assembly

    assert [r.party for r in public.responses] == ["Borger 1", "Boldklubben", "Borger 2", "Borger 2"]
    assert sorted(p.name for p in public.parties) == ["Boldklubben", "Borger 2", "Borger 3"]
    assert public.responses[2].text == "Jeg er imod.\nMed venlig hilsen\nBorger 2"
    assert public.responses[3].text == "Og så en ting til, Borger 2"
    assert [m.party for m in public.remarks] == ["Borger 1", "Boldklubben", "Borger 2", "Borger 2"]
    assert public.responses[0].text == "Min cpr [CPR-nr. fjernet]."
    assert public.notes["1.1"].reply == "Vi har ringet til Jens på [telefonnr. fjernet]."
    assert all(r.sender == "" for r in public.responses)


def test_a_name_staff_show_is_shown_everywhere() -> None:
    redactor = Redactor(OWN, shown=[(EVERYWHERE, "Jens Hansen")])
    public = public_assembly(_assembly(), SENDERS, [], {}, redactor).assembly
    assert public.responses[2].party == "Jens Hansen"
    assert public.responses[2].text.endswith("Jens Hansen")
    assert [(e.found, e.shown) for e in redactor.ledger.rows() if e.found == "Jens Hansen"] == [
        ("Jens Hansen", True)
    ]


def test_attachment_texts_are_redacted_and_a_letter_already_in_the_text_is_not_repeated() -> None:
    assembly = _assembly()
    letter = "Min cpr 070761-4285."
    texts = {2: [("referat.pdf", "Kontakt formand på 22 33 44 77"), ("brev.docx", "Vi støtter.")],
             3: [("kopi.pdf", letter)]}  # fmt: skip
    version = public_assembly(assembly, SENDERS, [], texts, Redactor(OWN))
    assert version.attachments == {2: [("referat.pdf", "Kontakt formand på [telefonnr. fjernet]")], 3: []}


def test_the_gate_finds_what_the_redactor_does_not_touch() -> None:
    assembly = _assembly()
    leaky = replace(assembly, round=replace(assembly.round, title="Sag 010203-1234 om jens@privat.example"))
    version = public_assembly(leaky, SENDERS, [], {}, Redactor(OWN))
    assert [(r.where, r.what) for r in gate(version, OWN)] == [
        ("høringens titel", "et CPR-nummer"),
        ("høringens titel", "en e-mailadresse"),
    ]
    assert gate(public_assembly(assembly, SENDERS, [], {}, Redactor(OWN)), OWN) == []


def test_the_gate_refuses_a_cpr_number_shown_by_vis() -> None:
    redactor = Redactor(OWN, shown=[("Høringssvar 3", "070761-4285")])
    version = public_assembly(_assembly(), SENDERS, [], {}, redactor)
    assert [(r.where, r.what) for r in gate(version, OWN)] == [
        ("Høringssvar 3", "et CPR-nummer"),
        ("bemærkning 3.1", "et CPR-nummer"),
    ]


def test_the_members_of_a_campaign_share_one_public_tuple_of_names() -> None:
    # A new tuple per member would cost k × k names for a campaign of k responses.
    a = _assembly()
    names = tuple(r.party for r in a.responses)
    a.responses = [replace(r, campaign="c1", campaign_size=4, campaign_parties=names) for r in a.responses]
    public = public_assembly(a, SENDERS, [], {}, Redactor(OWN)).assembly
    shown = public.responses[0].campaign_parties
    assert shown == ("Borger 1", "Boldklubben", "Borger 2", "Borger 2")
    assert all(r.campaign_parties is shown for r in public.responses)
