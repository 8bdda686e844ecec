"""The counted responses and their remarks for the outputs, read in one pass in receipt order.

A national round has a million responses and more remarks. They are read as column tuples in
receipt order, each turned in its place into the line the outputs show, already numbered 1, 2,
3 … (``core.numbering``'s rule: receipt order), and the remarks are streamed in the same order
and merged in by response as they come. So no second copy of either list exists at any moment
(the former read built the lines beside the rows, then renumbered both into third copies), and
what must be aggregated is kept as counts: per party a tally, per campaign one tuple of names.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby

from flows.adapters.db.response_stream import ReceiptRemark
from flows.adapters.db.responses import Counted
from flows.adapters.db.rounds import PartyEntry
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.line_spill import SpilledLines
from flows.adapters.text_spill import SpilledTexts, TextSpill
from flows.core.assembly import LazyText, RemarkLine, ResponseLine, StaffNote, resolve
from flows.core.campaigns import group_campaigns
from flows.core.model import Channel
from flows.core.numbering import remark_reference, shown_remark_number


@dataclass
class PartyTally:
    """What a party's line needs of its counted responses."""

    responses: int = 0
    with_remarks: int = 0
    latest: datetime | None = None


@dataclass
class CountedRead:
    responses: SpilledLines[ResponseLine]
    remarks: SpilledLines[RemarkLine]
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
    """Counted responses and (unless ``summary``) their remarks, numbered as the outputs show them.

    One pass spills each response's line as its row arrives, with its remarks merged in; only
    the texts' places (for campaign grouping) and a tally per party stay in memory. Lines of
    campaign members and of responses with attachments are then completed in place.
    """
    repo = uow.responses
    responses: SpilledLines[ResponseLine] = SpilledLines(spill)
    remarks: SpilledLines[RemarkLine] = SpilledLines(spill)
    texts = SpilledTexts(spill)  # what campaign grouping compares, by response id
    ids = array("q")
    tallies: dict[int, PartyTally] = {}
    shown_notes: dict[str, StaffNote] = {}
    groups = iter(()) if summary else _by_response(repo.counted_remarks(round_id))
    waiting = next(groups, None)
    for index, row in enumerate(repo.counted(round_id, whole=not summary)):
        text = resolve(row.text)
        line = ResponseLine(
            number=index + 1,
            reference=row.reference,
            party=_party_name(row, parties),
            sender=row.sender,
            received_at=row.received_at,
            channel=Channel(row.channel),
            late=row.late,
            subject=row.subject,
            content=spill.put(text),
            full_content=_whole(spill, row.full_text, text),
            no_remarks=row.no_remarks,
        )
        responses.append(line)
        ids.append(row.id)
        _tally(tallies, row)
        if not row.no_remarks and not summary:
            texts.add(row.id, text)
        # the remarks come in the same receipt order; one whose response is not among these
        # (counted after the responses were read) is left out
        while waiting is not None and waiting[0] < (row.received_at, row.number):
            waiting = next(groups, None)
        if waiting is None or waiting[0] != (row.received_at, row.number):
            continue
        for record in waiting[1]:
            number = shown_remark_number(line.number, record.number)
            if record.number in notes:
                shown_notes[number] = notes[record.number]
            remarks.append(
                RemarkLine(
                    number,
                    line.number,
                    line.party,
                    record.section,
                    spill.put(record.text),
                    record.proposal,
                    line.late,
                    reference=remark_reference(line.reference, record.number),
                )
            )
        waiting = next(groups, None)
    if not summary:
        attachments = repo.attachment_names(ids.tolist())
        _complete(responses, ids, group_campaigns(texts.done()), attachments)
    return CountedRead(responses, remarks, shown_notes, tallies)


def _complete(
    responses: SpilledLines[ResponseLine],
    ids: array[int],
    campaigns: Mapping[int, str],
    attachments: Mapping[int, list[str]],
) -> None:
    """Give campaign members their campaign and its senders, and each line its attachments.

    One tuple of names per campaign, shared by its members: a campaign of k responses costs k
    names, not k × k (the spill keeps a shared tuple once).
    """
    members: dict[str, list[str]] = {}
    for index, response_id in enumerate(ids):
        if response_id in campaigns:
            members.setdefault(campaigns[response_id], []).append(responses[index].party)
    names = {key: responses.share(tuple(group)) for key, group in members.items()}
    for index, response_id in enumerate(ids):
        key = campaigns.get(response_id)
        if key is None and response_id not in attachments:
            continue
        responses[index] = replace(
            responses[index],
            attachments=tuple(attachments.get(response_id, ())),
            campaign=key,
            campaign_size=len(names[key]) if key else 1,
            campaign_parties=names[key] if key else (),
        )


def _by_response(
    remarks: Iterable[ReceiptRemark],
) -> Iterator[tuple[tuple[datetime, int], list[ReceiptRemark]]]:
    """Each response's remarks, in position order, keyed by the response's receipt key."""
    for _, group in groupby(remarks, key=lambda r: r.response_id):
        records = sorted(group, key=lambda r: int(r.number.split(".")[1]))
        yield (records[0].received_at, records[0].response_number), records


def _whole(spill: TextSpill, full_text: str | LazyText, text: str | LazyText) -> str | LazyText:
    """The whole body, spilled only where the note's trimmed quote left something out."""
    whole, shown = resolve(full_text), resolve(text)
    return spill.put(whole) if whole.strip() and whole.strip() != shown.strip() else ""


def _tally(tallies: dict[int, PartyTally], row: Counted) -> None:
    if row.party_id is None:
        return
    tally = tallies.setdefault(row.party_id, PartyTally())
    tally.responses += 1
    tally.with_remarks += 0 if row.no_remarks else 1
    if tally.latest is None or row.received_at > tally.latest:
        tally.latest = row.received_at


def _party_name(row: Counted, parties: Mapping[int, PartyEntry]) -> str:
    party = parties.get(row.party_id) if row.party_id is not None else None
    return party.name if party else (row.sender_display or row.sender or "Ukendt afsender")
