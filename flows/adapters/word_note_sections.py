"""The note's body by the draft's own sections (``note_layout = "by_section"``).

As ministries write a høringsnotat (lovkvalitetsvejledningen 9.1.6): the general remarks first,
then one heading per section of the draft that received remarks, in the draft's order with its
number and title; under each a line naming who commented, then every remark quoted with its
party and its reply. A campaign is quoted once, with its count. The changes to the draft follow,
section by section. ``word_note`` writes everything around this body, as in the by-party note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from flows.core.assembly import Assembly, RemarkLine, ResponseLine, StaffNote
from flows.core.quality import clean_text
from flows.core.sections import GENERAL, unique_labels

Say = Callable[..., str]


class Composer(Protocol):
    """What this body needs of the note's composer (``word_note._Compose``)."""

    covered: set[int]
    remarks_shown: list[str]

    def add(self, text: str, style: str | None = None, *, bold: bool = False) -> None: ...

    def heading(self, text: str, level: int = 1) -> None: ...

    def quote(self, number: int, text: str) -> None: ...

    def reply(self, note: StaffNote | None) -> None: ...


def danish_list(names: Sequence[str]) -> str:
    """ "A", "A og B", "A, B og C"."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " og " + names[-1]


class _Item:
    """One remark to show: the remark, its response, and the campaign it stands for (if any)."""

    __slots__ = ("members", "remark", "response")

    def __init__(
        self, remark: RemarkLine | None, response: ResponseLine, members: Sequence[ResponseLine]
    ) -> None:
        self.remark, self.response, self.members = remark, response, members


def compose_by_section(c: Composer, assembly: Assembly, say: Say) -> None:
    """`Generelle bemærkninger`, then one heading per section with remarks, in the draft's order."""
    general, per_section, by_response = _items(assembly)
    c.heading(say("headings", "general"), 2)
    if not general:
        c.add(say("text", "general_none"))
    for item in general:
        _show(c, assembly, item, say, by_response)
    labels = dict(zip((s.position for s in assembly.sections), unique_labels(assembly.sections), strict=True))
    for section in assembly.sections:
        items = per_section.get(section.position)
        if not items:
            continue
        c.heading(clean_text(labels[section.position]), 2)
        who = list(dict.fromkeys(_who(item, say) for item in items))
        c.add(say("text", "commented", parties=clean_text(danish_list(who))))
        for item in items:
            _show(c, assembly, item, say, by_response)


_ByResponse = dict[int, list[RemarkLine]]


def _items(assembly: Assembly) -> tuple[list[_Item], dict[int, list[_Item]], _ByResponse]:
    """The on-time remarks, general and per section; a campaign's copies folded into its first."""
    remarks: dict[int, list[RemarkLine]] = {}
    for m in assembly.remarks:
        if not m.late:
            remarks.setdefault(m.response_number, []).append(m)
    campaigns: dict[str, list[ResponseLine]] = {}
    for r in assembly.on_time:
        if r.campaign is not None:
            campaigns.setdefault(r.campaign, []).append(r)
    general: list[_Item] = []
    per_section: dict[int, list[_Item]] = {}
    for r in assembly.on_time:
        members: Sequence[ResponseLine] = ()
        if r.campaign is not None:
            group = campaigns[r.campaign]
            if group[0].number != r.number:
                continue  # shown with the first copy
            members = group
        own = remarks.get(r.number, [])
        if r.no_remarks or not own:
            general.append(_Item(None, r, members))
            continue
        for m in own:
            item = _Item(m, r, members)
            if m.placed_at is None:
                general.append(item)
            else:
                per_section.setdefault(m.placed_at, []).append(item)
    return general, per_section, remarks


def _who(item: _Item, say: Say) -> str:
    if item.members:
        return say("text", "campaign_who", count=_count(item))
    return item.response.party


def _count(item: _Item) -> int:
    first = item.response
    return max(len(item.members), first.campaign_size, len(first.campaign_parties))


def _show(c: Composer, assembly: Assembly, item: _Item, say: Say, by_response: _ByResponse) -> None:
    r, m = item.response, item.remark
    group = item.members or (r,)
    c.covered.update(x.number for x in group)
    if item.members:
        senders = list(dict.fromkeys([x.party for x in group] + list(r.campaign_parties)))
        c.add(say("text", "campaign_label", count=_count(item)), bold=True)
        c.add(say("text", "campaign_senders", parties=clean_text(", ".join(senders))))
    else:
        c.add(say("text", "party_label", party=clean_text(r.party)), bold=True)
    if m is None:
        if r.no_remarks:
            c.add(say("text", "no_remarks", party=clean_text(r.party)))
        else:
            c.quote(r.number, r.text)
            c.reply(None)
        return
    # the campaign's copies say the same: their remarks are shown by this one quote
    c.remarks_shown.extend(_copies(m, group, by_response))
    c.quote(r.number, m.text)
    if m.proposal.strip():
        c.add(say("text", "proposal", proposal=clean_text(m.proposal)))
    c.reply(assembly.notes.get(m.number))


def _copies(m: RemarkLine, group: Sequence[ResponseLine], by_response: _ByResponse) -> list[str]:
    if len(group) == 1:
        return [m.number]
    position = m.number.rsplit(".", 1)[-1]
    return [
        x.number
        for r in group
        for x in by_response.get(r.number, ())
        if x.number.rsplit(".", 1)[-1] == position
    ]


def compose_changes_by_section(c: Composer, assembly: Assembly, say: Say) -> None:
    """`Ændringer i udkastet`, section by section: every remark staff wrote a change for."""
    c.heading(say("headings", "changes"))
    labels = dict(zip((s.position for s in assembly.sections), unique_labels(assembly.sections), strict=True))
    order = {s.position: i for i, s in enumerate(assembly.sections)}
    changed: dict[int | None, list[tuple[RemarkLine, StaffNote]]] = {}
    for m in assembly.remarks:
        note = assembly.notes.get(m.number)
        if note is not None and (note.change.strip() or note.gives_change in ("Ja", "Delvist")):
            changed.setdefault(m.placed_at, []).append((m, note))
    if not changed:
        c.add(say("text", "changes_none"))
        return
    c.add(say("text", "changes_intro"))
    for position in sorted(changed, key=lambda p: -1 if p is None else order.get(p, len(order))):
        c.heading(GENERAL if position is None else clean_text(labels.get(position, GENERAL)), 2)
        for m, note in changed[position]:
            change = clean_text(note.change).strip() or clean_text(note.reply).strip()
            c.add(say("text", "change_item", party=clean_text(m.party), number=m.number, change=change))
