"""The public version of a round's outputs: the same Assembly with personal data redacted. Pure.

``public_assembly`` turns the internal Assembly into the one the public note and the public PDF
are written from, by the same writers: private persons become "Borger 1", "Borger 2", … in order
of receipt (one number per person, however many times they wrote), and every text that came
from outside, or that staff wrote about it, goes through the ``Redactor``. Organisations keep
their names; the round's own texts (title, administration, …) are the administration's.
``gate`` then looks for what must never be published, in everything the writers will show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, MutableSequence, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flows.core.assembly import Assembly, LazyText, StaffNote, in_receipt_order, resolve
from flows.core.redaction import Own, Reason, Redactor, Term, leaks

PSEUDONYM = "Borger {n}"
ATTACHMENT_PLACE = "{place}, bilag »{name}«"
PARTIES_PLACE = "Høringsparter"


def place_of(response_number: int) -> str:
    """Where a find is: the response it belongs to (its text, remarks, attachments, replies)."""
    return f"Høringssvar {response_number}"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote one counted response, as far as the public version cares."""

    key: str  # one private person: "party:12" or "sender:jens@privat.example"
    person: bool
    names: tuple[str, ...]  # every name they go by (party name, the From display name)


@dataclass
class PublicVersion:
    assembly: Assembly
    attachments: dict[int, list[tuple[str, str]]]  # response number → (name, redacted text)
    redactor: Redactor


def public_assembly(
    assembly: Assembly,
    senders: Mapping[int, Sender],
    person_parties: Iterable[str],
    attachments: Mapping[int, Sequence[tuple[str, str]]],
    redactor: Redactor,
    keep: Callable[[str], str | LazyText] = lambda text: text,
    lines: Callable[[], MutableSequence[Any]] = list,
) -> PublicVersion:
    """The redacted twin of ``assembly``; ``keep`` stores each redacted text (a spill file) and
    ``lines`` makes the sequences its lines go to (a spill too, for a national round)."""
    pseudonyms = _pseudonyms(assembly, senders, person_parties)

    names_shown: dict[str, str] = {}

    def shown_name(name: str) -> str:
        """A private person's pseudonym; an organisation's name, with any address in it hidden."""
        if name not in names_shown:
            if name in pseudonyms:
                names_shown[name] = redactor.name(name, pseudonyms[name])
            else:
                names_shown[name] = redactor.redact(name, PARTIES_PLACE)
        return names_shown[name]

    def own_terms(number: int) -> list[Term]:
        """The names a private person signs with, to hide in their own texts."""
        sender = senders.get(number)
        if sender is None or not sender.person or not sender.names:
            return []
        pseudonym = pseudonyms[sender.names[0]]
        return [Term(n, pseudonym, Reason.NAME) for n in sender.names]

    # One public tuple of names per campaign, as the private read shares one per campaign: a
    # new tuple per member would cost k × k names for a campaign of k responses. Keyed by the
    # private tuple's identity (alive in ``assembly`` throughout), so no tuple is hashed.
    campaign_names: dict[int, tuple[str, ...]] = {}

    def shown_parties(names: tuple[str, ...]) -> tuple[str, ...]:
        if not names:
            return names
        if id(names) not in campaign_names:
            shown = tuple(shown_name(p) for p in names)
            campaign_names[id(names)] = names if shown == names else shown
        return campaign_names[id(names)]

    def shown_attachments(items: tuple[str, ...], place: str, names: list[Term]) -> tuple[str, ...]:
        shown = tuple(redactor.redact(a, place, names) for a in items)
        return items if shown == items else shown  # most have nothing to hide: share the tuple

    responses = lines()
    letters: dict[int, str | LazyText] = {}  # the shown text of each response with attachment texts
    for r in assembly.responses:
        place, names = place_of(r.number), own_terms(r.number)
        if r.number in attachments:
            letters[r.number] = r.content
        responses.append(
            replace(
                r,
                party=shown_name(r.party),
                sender="",  # every sender's address is personal data; the party names the sender
                subject=redactor.redact(r.subject, place, names),
                content=keep(redactor.redact(r.text, place, names)),
                attachments=shown_attachments(r.attachments, place, names),
                campaign_parties=shown_parties(r.campaign_parties),
                full_content="",  # the whole private body is for the log; no public document shows it
            )
        )
    remarks = lines()
    for m in assembly.remarks:
        place, names = place_of(m.response_number), own_terms(m.response_number)
        remarks.append(
            replace(
                m,
                party=shown_name(m.party),
                section=redactor.redact(m.section, place, names),
                content=keep(redactor.redact(m.text, place, names)),
                proposal=redactor.redact(m.proposal, place, names),
            )
        )
    notes = {}
    for remark, note in assembly.notes.items():
        head = remark.split(".")[0]
        place = place_of(int(head)) if head.isdigit() else "Notatet"
        notes[remark] = StaffNote(
            redactor.redact(note.reply, place), redactor.redact(note.change, place), note.gives_change
        )
    texts: dict[int, list[tuple[str, str]]] = {}
    for number, items in attachments.items():
        place, names = place_of(number), own_terms(number)
        shown = resolve(letters.pop(number, ""))
        texts[number] = [
            (
                redactor.redact(name, place, names),
                redactor.redact(text, ATTACHMENT_PLACE.format(place=place, name=name), names),
            )
            for name, text in items
            # a letter's text is already part of the response's text (as "Bilag: name: …")
            if not (text.strip() and text.strip() in shown)
        ]
    parties = [replace(p, name=shown_name(p.name), emails=()) for p in assembly.parties]
    public = Assembly(assembly.round, assembly.generated_at, parties, responses, remarks, [], notes)
    return PublicVersion(public, texts, redactor)


def _pseudonyms(
    assembly: Assembly, senders: Mapping[int, Sender], person_parties: Iterable[str]
) -> dict[str, str]:
    """Each private person's names → "Borger n", numbered in order of receipt; persons invited
    who did not respond are numbered after them, in the order of the list of parties."""
    by_key: dict[str, str] = {}
    names: dict[str, str] = {}
    for r in in_receipt_order(assembly.responses):
        sender = senders.get(r.number)
        if sender is None or not sender.person:
            continue
        pseudonym = by_key.setdefault(sender.key, PSEUDONYM.format(n=len(by_key) + 1))
        for name in (*sender.names, r.party):
            names.setdefault(name, pseudonym)
    for name in person_parties:
        if name not in names:
            by_key[f"party-name:{name}"] = names[name] = PSEUDONYM.format(n=len(by_key) + 1)
    return names


@dataclass(frozen=True, slots=True)
class Refusal:
    where: str
    what: str


def gate(public: PublicVersion, own: Own) -> list[Refusal]:
    """Every CPR number and every e-mail address not the administration's own (nor shown by
    staff) in what the public documents will show, with where it is."""
    allowed = frozenset(e.found for e in public.redactor.ledger.rows() if e.shown and e.reason != Reason.CPR)
    found: list[Refusal] = []

    def check(where: str, text: str) -> None:
        found.extend(Refusal(where, leak.what) for leak in leaks(text, own, allowed))

    a = public.assembly
    rnd = a.round
    for label, text in (
        ("høringens titel", rnd.title),
        ("høringens emne", rnd.subject),
        ("forvaltningens navn", rnd.administration),
        ("det hørte organ", rnd.consulted_body),
    ):
        check(label, text)
    for p in a.parties:
        check("listen over høringsparter", p.name)
    for r in a.responses:
        where = place_of(r.number)
        for text in (r.party, r.subject, r.text, *r.attachments, *r.campaign_parties):
            check(where, text)
    for m in a.remarks:
        for text in (m.party, m.section, m.text, m.proposal):
            check(f"bemærkning {m.number}", text)
    for remark, note in a.notes.items():
        for text in (note.reply, note.change):
            check(f"forvaltningens bemærkning {remark}", text)
    for number, items in public.attachments.items():
        for name, text in items:
            check(ATTACHMENT_PLACE.format(place=place_of(number), name=name), text)
    return found
