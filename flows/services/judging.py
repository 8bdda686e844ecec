"""Judge one parsed message: classify, route to its round, match its party, build its remarks.

Pure work on what the batch read once (``IngestContext``); no database. ``services.ingesting``
runs it for every message of a batch and ``services.recording`` writes the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from flows.adapters.db.raw_messages import StoredRaw
from flows.adapters.db.rounds import PartyEntry
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.bootstrap import App
from flows.core.bodytext import is_no_remarks
from flows.core.classify import Classification, classify
from flows.core.deadline import effective_deadline, is_late, receipt_time_holds
from flows.core.matching import RoundIndex, match_party, name_key, route
from flows.core.message import ParsedMessage
from flows.core.model import Kind, Remark, Round
from flows.core.responses import TOO_LARGE_TEXT, has_template_remarks, remarks_of, response_text


@dataclass
class IngestContext:
    """Read once per batch: what identifies each round's mail."""

    indexes: list[RoundIndex]
    rounds: dict[str, Round]
    parties: dict[int, PartyEntry]
    own_addresses: set[str]
    own_ids: set[str]

    def index(self, round_id: str) -> RoundIndex:
        return next(i for i in self.indexes if i.round_id == round_id)


@dataclass
class Item:
    """One message, judged: everything its rows need except the ids the write assigns."""

    raw: StoredRaw
    parsed: ParsedMessage
    verdict: Classification
    round_id: str
    party: PartyEntry | None
    matched_by: str | None
    kind: str
    remarks: list[Remark]
    text: str = ""
    no_remarks: bool = False
    late: bool = False
    number: int = 0
    duplicate_of_raw: int | None = None
    duplicate_of: int | None = None
    collision: bool = False
    holds: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"{self.round_id}-{self.number:04d}"

    @property
    def message_id(self) -> str | None:
        return (self.parsed.message_id or "")[:400] or None

    def reset(self) -> None:
        """Forget what a rolled-back write decided (number, duplicate links)."""
        self.kind = self.verdict.kind.value
        self.number, self.duplicate_of, self.duplicate_of_raw, self.collision = 0, None, None, False


def load_context(uow: UnitOfWork, sender_address: str | None) -> IngestContext:
    rounds = {r.id: r for r in uow.rounds.all()}
    parties = uow.rounds.party_entries()
    indexes = {rid: RoundIndex(round_id=rid, reply_to=r.reply_to) for rid, r in rounds.items()}
    for party in parties.values():
        index = indexes[party.round_id]
        if not party.active:
            continue
        for address in party.emails:
            index.by_address[address] = party.id
        for domain in party.domains:
            index.by_domain[domain] = party.id
        index.by_name[name_key(party.name)] = party.id
    own_ids: set[str] = set()
    for round_id, message_id, party_id in uow.outbox.thread_ids():
        bare = message_id.strip("<>")
        indexes[round_id].sent_ids[bare] = party_id
        own_ids.add(bare)
    own_addresses = {r.reply_to for r in rounds.values()}
    if sender_address:
        own_addresses.add(sender_address.lower())
    return IngestContext(list(indexes.values()), rounds, parties, own_addresses, own_ids)


def judge(app: App, ctx: IngestContext, raw: StoredRaw, parsed: ParsedMessage, collecting_round: str) -> Item:
    """Classify, route and match one parsed message: pure work, no database."""
    verdict = classify(
        parsed,
        own_addresses=ctx.own_addresses,
        own_message_ids=ctx.own_ids,
        authserv_id=app.settings.authserv_id,
    )
    round_id = route(parsed, ctx.indexes, collecting_round)
    index = ctx.index(round_id)
    match = match_party(parsed, index) if verdict.kind == Kind.RESPONSE else None
    party = ctx.parties.get(match.party_id) if match and match.party_id else None
    remarks = remarks_of(parsed)
    deadline = effective_deadline(ctx.rounds[round_id].deadline, party.extended_until if party else None)
    holds = [verdict.hold] if verdict.hold else []
    if verdict.kind == Kind.RESPONSE:
        # "In the future" means later than the moment the message was really fetched: under
        # --now (a replay) the service clock lies behind the real receipt times by design
        fetched = max(raw.collected_at or app.now(), datetime.now(UTC))
        holds += receipt_time_holds(raw.received_at, ctx.rounds[round_id].opens, fetched)
    item = Item(
        raw=raw,
        parsed=parsed,
        verdict=verdict,
        round_id=round_id,
        party=party,
        matched_by=match.matched_by if match else None,
        kind=verdict.kind.value,
        remarks=remarks,
        text=response_text(parsed, remarks),
        no_remarks=verdict.kind == Kind.RESPONSE
        and not has_template_remarks(parsed)
        and is_no_remarks(parsed.answer_text or parsed.body_text),
        late=is_late(raw.received_at, deadline),
        holds=holds,
    )
    if raw.size > app.settings.max_message_bytes and verdict.kind == Kind.RESPONSE:
        hold_too_large(item)
    return item


def hold_too_large(item: Item) -> None:
    """Kept whole, only its headers read: not counted until staff include it (``Medtag``).

    Its kind is ``unreadable`` (no receipt, no remarks); ``Medtag`` makes it a response, whose
    one remark is a placeholder telling staff the text is in the stored message.
    """
    item.kind = Kind.UNREADABLE.value
    item.verdict = replace(item.verdict, kind=Kind.UNREADABLE)
    item.remarks, item.text, item.no_remarks = [], TOO_LARGE_TEXT, False
