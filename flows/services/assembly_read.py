"""The counted responses and their remarks for the outputs, read in one pass in receipt order.

A national round has a million responses and more remarks. They are read as column tuples in
receipt order, each turned in its place into the line the outputs show, already numbered 1, 2,
3 … (``core.numbering``'s rule: receipt order), and the remarks are streamed in the same order
and merged in by response as they come. So no second copy of either list exists at any moment
(the former read built the lines beside the rows, then renumbered both into third copies), and
what must be aggregated is kept as counts: per party a tally, per campaign one tuple of names.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from flows.adapters.db.response_stream import ReceiptRemark
from flows.adapters.db.responses import Counted
from flows.adapters.db.rounds import PartyEntry
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.text_spill import TextsById, TextSpill
from flows.core.assembly import LazyText, RemarkLine, ResponseLine, StaffNote, resolve
from flows.core.campaigns import group_campaigns
from flows.core.model import Channel
from flows.core.numbering import remark_reference


@dataclass
class PartyTally:
    """What a party's line needs of its counted responses."""

    responses: int = 0
    with_remarks: int = 0
    latest: datetime | None = None


@dataclass
class CountedRead:
    responses: list[ResponseLine]
    remarks: list[RemarkLine]
    notes: dict[str, StaffNote]  # keyed by the shown remark numbers
    tallies: dict[int, PartyTally]


def read_counted(
    uow: UnitOfWork,
    round_id: str,
    parties: Mapping[int, PartyEntry],
    spill: TextSpill,
    notes: Mapping[str, StaffNote],
    *,
    summary: bool = False,
) -> CountedRead:
    """Counted responses and (unless ``summary``) their remarks, numbered as the outputs show them."""
    repo = uow.responses
    lines: list[Counted | ResponseLine] = [
        row._replace(text=spill.put(resolve(row.text)), full_text=_whole(spill, row.full_text, row.text))
        for row in repo.counted(round_id, whole=not summary)
    ]
    counted: list[Counted] = lines  # type: ignore[assignment]  # all rows until turned below
    attachments = {} if summary else repo.attachment_names([r.id for r in counted])
    campaigns = (
        {} if summary else group_campaigns(TextsById({r.id: r.text for r in counted if not r.no_remarks}))
    )
    sizes, names = _campaign_members(counted, campaigns, parties)
    tallies = _tallies(counted)
    stored = array("q", (r.number for r in counted))  # the stored numbers: the merge's key
    for index, row in enumerate(counted):
        key = campaigns.get(row.id)
        lines[index] = ResponseLine(
            number=index + 1,
            reference=row.reference,
            party=_party_name(row, parties),
            sender=row.sender,
            received_at=row.received_at,
            channel=Channel(row.channel),
            late=row.late,
            subject=row.subject,
            content=row.text,
            full_content=row.full_text,
            attachments=tuple(attachments.get(row.id, [])),
            no_remarks=row.no_remarks,
            campaign=key,
            campaign_size=sizes[key] if key else 1,
            campaign_parties=names[key] if key else (),
        )
    responses: list[ResponseLine] = lines  # type: ignore[assignment]  # every row is a line now
    remarks: list[RemarkLine] = []
    shown_notes: dict[str, StaffNote] = {}
    if not summary:
        merged = _merge(responses, stored, repo.counted_remarks(round_id))
        for line, records in merged:
            for record in records:
                number = f"{line.number}.{record.number.partition('.')[2] or '1'}"
                if record.number in notes:
                    shown_notes[number] = notes[record.number]
                remarks.append(
                    RemarkLine(
                        number,
                        line.number,
                        line.party,
                        sys.intern(record.section),  # a template's headings repeat in every answer
                        spill.put(record.text),
                        record.proposal,
                        line.late,
                        reference=remark_reference(line.reference, record.number),
                    )
                )
    return CountedRead(responses, remarks, shown_notes, tallies)


def _merge(
    responses: list[ResponseLine], stored: array[int], remarks: Iterable[ReceiptRemark]
) -> Iterable[tuple[ResponseLine, list[ReceiptRemark]]]:
    """Each response with its remarks, walking both in receipt order; a remark whose response
    is not among these (counted after the responses were read) is left out, as before."""
    at = 0
    for _, group in groupby(remarks, key=lambda r: r.response_id):
        records = list(group)
        key = (records[0].received_at, records[0].response_number)
        while at < len(responses) and (responses[at].received_at, stored[at]) < key:
            at += 1
        if at < len(responses) and stored[at] == key[1]:
            records.sort(key=lambda r: int(r.number.split(".")[1]))
            yield responses[at], records


def _whole(spill: TextSpill, full_text: str | LazyText, text: str | LazyText) -> str | LazyText:
    """The whole body, spilled only where the note's trimmed quote left something out."""
    whole, shown = resolve(full_text), resolve(text)
    return spill.put(whole) if whole.strip() and whole.strip() != shown.strip() else ""


def _campaign_members(
    counted: list[Counted], campaigns: Mapping[int, str], parties: Mapping[int, PartyEntry]
) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    # One tuple of names per campaign, shared by its members: a campaign of k responses must
    # cost k names, not k × k.
    members: dict[str, list[str]] = {}
    for row in counted:
        if row.id in campaigns:
            members.setdefault(campaigns[row.id], []).append(_party_name(row, parties))
    return {key: len(group) for key, group in members.items()}, {
        key: tuple(group) for key, group in members.items()
    }


def _tallies(counted: Iterable[Counted]) -> dict[int, PartyTally]:
    tallies: dict[int, PartyTally] = {}
    for row in counted:
        if row.party_id is None:
            continue
        tally = tallies.setdefault(row.party_id, PartyTally())
        tally.responses += 1
        tally.with_remarks += 0 if row.no_remarks else 1
        if tally.latest is None or row.received_at > tally.latest:
            tally.latest = row.received_at
    return tallies


def _party_name(row: Counted, parties: Mapping[int, PartyEntry]) -> str:
    party = parties.get(row.party_id) if row.party_id is not None else None
    return party.name if party else (row.sender_display or row.sender or "Ukendt afsender")
