"""Turn stored raw messages into classified, matched, recorded items of a round.

A batch is read in one short transaction, parsed outside any transaction (by worker processes
when it is large), judged, and written ``WRITE_EVERY`` messages per transaction with bulk
statements while the rest is still parsing. If a write fails, each of its messages is written on
its own, so one bad message is quarantined after ``MAX_ATTEMPTS`` tries and never stops the batch.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from flows.adapters.db.batches import lock_rounds
from flows.adapters.db.tables import (
    AttachmentRow,
    EventRow,
    OutboxRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
    RoundRow,
)
from flows.adapters.parse_pool import StoredMessage, parse_all
from flows.bootstrap import App
from flows.core.bodytext import is_no_remarks
from flows.core.classify import Classification, classify
from flows.core.danish import short_datetime
from flows.core.deadline import effective_deadline, is_late, receipt_time_holds
from flows.core.matching import RoundIndex, match_party, name_key, route
from flows.core.message import ParsedMessage
from flows.core.model import Channel, Kind, OutboxState, Remark
from flows.services.collecting import MAX_ATTEMPTS
from flows.services.outbox import Queued, queue

log = logging.getLogger(__name__)
UNVERIFIED_REASON = (
    "Afsenderen kunne ikke verificeres (vores mailservers kontrol af SPF/DKIM/DMARC fejlede) "
    "– tælles ikke for den høringspart, den udgiver sig for, før det medtages; der er ikke sendt kvittering"
)
NO_RECEIPT_REASON = "Der er ikke sendt kvittering: afsenderen er hverken høringspart eller verificeret"
THREAD_PURPOSES = ("invitation", "reminder", "extension")
# Messages per write transaction: the workers parse the next slice while this one is written.
WRITE_EVERY = 125


@dataclass
class ProcessReport:
    processed: int = 0
    responses: int = 0
    set_aside: int = 0
    quarantined: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class _Context:
    """Read once per batch: what identifies each round's mail."""

    indexes: list[RoundIndex]
    rounds: dict[str, RoundRow]
    parties: dict[int, PartyRow]
    own_addresses: set[str]
    own_ids: set[str]
    receipts_today: set[str] = field(default_factory=set)

    def index(self, round_id: str) -> RoundIndex:
        return next(i for i in self.indexes if i.round_id == round_id)


@dataclass
class _Raw:
    id: int
    path: str
    source: str
    name: str
    received_at: datetime
    size: int
    received_from: str = ""
    collected_at: datetime | None = None


@dataclass
class _Item:
    """One message, judged: everything its rows need except the ids the write assigns."""

    raw: _Raw
    parsed: ParsedMessage
    verdict: Classification
    round_id: str
    party: PartyRow | None
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

    def reset(self) -> None:
        """Forget what a rolled-back write decided (number, duplicate links)."""
        self.kind = self.verdict.kind.value
        self.number, self.duplicate_of, self.duplicate_of_raw, self.collision = 0, None, None, False


def process_batch(app: App, collecting_round: str, raw_ids: list[int]) -> ProcessReport:
    """Read, parse on every core, judge, and write in slices while the rest is still parsing."""
    report = ProcessReport()
    with app.db.transaction() as session:
        ctx = _load_context(session, app)
        raws = _stored_rows(session, raw_ids)
    failed: list[tuple[int, Exception]] = []
    stored = [StoredMessage(raw.path, raw.source, raw.name, raw.size) for raw in raws]
    parsed_all = parse_all(
        stored, app.settings.max_message_bytes, app.settings.parse_workers_in_use, app.settings.files_dir
    )
    pairs = zip(raws, parsed_all, strict=True)
    while part := list(itertools.islice(pairs, WRITE_EVERY)):
        items: list[_Item] = []
        for raw, parsed in part:
            try:
                if isinstance(parsed, Exception):
                    raise parsed
                items.append(_judge(app, ctx, raw, parsed, collecting_round))
            except Exception as exc:  # recorded on the row below, never raised
                failed.append((raw.id, exc))
        for item in _write_all(app, ctx, items, failed):
            report.processed += 1
            report.by_kind[item.kind] = report.by_kind.get(item.kind, 0) + 1
            report.responses += int(item.kind == Kind.RESPONSE.value)
            report.set_aside += int(item.kind != Kind.RESPONSE.value)
    if failed:
        with app.db.transaction() as session:
            for raw_id, problem in failed:
                _record_failure(session, app, raw_id, problem, collecting_round, report)
    return report


def _write_all(
    app: App, ctx: _Context, items: list[_Item], failed: list[tuple[int, Exception]]
) -> list[_Item]:
    try:
        with app.db.transaction() as session:
            _write(session, app, ctx, items)
    except Exception as error:  # find the message that broke the batch: write them one by one
        log.warning("batch write failed (%s); writing its %d messages one by one", error, len(items))
        return _write_one_by_one(app, ctx, items, failed)
    return items


def _write_one_by_one(
    app: App, ctx: _Context, items: list[_Item], failed: list[tuple[int, Exception]]
) -> list[_Item]:
    written: list[_Item] = []
    for item in items:
        item.reset()
        try:
            with app.db.transaction() as session:
                _write(session, app, ctx, [item])
            written.append(item)
        except Exception as exc:  # this one is the poison; the rest go on
            failed.append((item.raw.id, exc))
    return written


def _stored_rows(session: Session, raw_ids: list[int]) -> list[_Raw]:
    rows = session.execute(
        select(
            RawMessageRow.id,
            RawMessageRow.path,
            RawMessageRow.source,
            RawMessageRow.source_name,
            RawMessageRow.received_at,
            RawMessageRow.size,
            RawMessageRow.received_from,
            RawMessageRow.collected_at,
        )
        .where(RawMessageRow.id.in_(raw_ids), RawMessageRow.state == "stored")
        .order_by(RawMessageRow.received_at, RawMessageRow.id)
    ).all()
    return [_Raw(*row) for row in rows]


def _record_failure(
    session: Session, app: App, raw_id: int, exc: Exception, collecting_round: str, report: ProcessReport
) -> None:
    raw = session.get(RawMessageRow, raw_id)
    if raw is None or raw.state != "stored":
        # Another run processed it meanwhile (a race it won, not a fault of the message): no
        # attempt is counted against it.
        return
    raw.attempts += 1
    raw.error = f"{type(exc).__name__}: {exc}"[:2000]
    if raw.attempts >= MAX_ATTEMPTS:
        raw.state = "quarantined"
        report.quarantined += 1
        app.event(session, collecting_round, "collect", "quarantined", raw_id=raw.id, error=raw.error)
    report.problems.append(f"besked {raw.id}: {raw.error}")
    log.warning("message %s could not be processed: %s", raw.id, raw.error)


def _judge(app: App, ctx: _Context, raw: _Raw, parsed: ParsedMessage, collecting_round: str) -> _Item:
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
    remarks = _remarks(parsed)
    deadline = effective_deadline(ctx.rounds[round_id].deadline, party.extended_until if party else None)
    holds = [verdict.hold] if verdict.hold else []
    if verdict.kind == Kind.RESPONSE:
        # "In the future" means later than the moment the message was really fetched: under
        # --now (a replay) the service clock lies behind the real receipt times by design
        fetched = max(raw.collected_at or app.now(), datetime.now(UTC))
        holds += receipt_time_holds(raw.received_at, ctx.rounds[round_id].opens, fetched)
    item = _Item(
        raw=raw,
        parsed=parsed,
        verdict=verdict,
        round_id=round_id,
        party=party,
        matched_by=match.matched_by if match else None,
        kind=verdict.kind.value,
        remarks=remarks,
        text=_response_text(parsed, remarks),
        no_remarks=verdict.kind == Kind.RESPONSE
        and not _has_template_remarks(parsed)
        and is_no_remarks(parsed.answer_text or parsed.body_text),
        late=is_late(raw.received_at, deadline),
        holds=holds,
    )
    if raw.size > app.settings.max_message_bytes and verdict.kind == Kind.RESPONSE:
        _hold_too_large(item)
    return item


TOO_LARGE_TEXT = (
    "(Svaret var for stort til at blive læst automatisk og er gemt uændret; "
    "se den gemte besked og skriv dets bemærkninger her.)"
)


def _hold_too_large(item: _Item) -> None:
    """Kept whole, only its headers read: not counted until staff include it (``Medtag``).

    Its kind is ``unreadable`` (no receipt, no remarks); ``Medtag`` makes it a response, whose
    one remark is a placeholder telling staff the text is in the stored message.
    """
    item.kind = Kind.UNREADABLE.value
    item.verdict = replace(item.verdict, kind=Kind.UNREADABLE)
    item.remarks, item.text, item.no_remarks = [], TOO_LARGE_TEXT, False


def _load_context(session: Session, app: App) -> _Context:
    rounds = {r.id: r for r in session.scalars(select(RoundRow))}
    parties = {p.id: p for p in session.scalars(select(PartyRow))}
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
    sent = session.execute(
        select(OutboxRow.round_id, OutboxRow.message_id, OutboxRow.party_id).where(
            OutboxRow.purpose.in_(THREAD_PURPOSES)
        )
    )
    for round_id, message_id, party_id in sent:
        bare = message_id.strip("<>")
        indexes[round_id].sent_ids[bare] = party_id
        own_ids.add(bare)
    own_addresses = {r.reply_to for r in rounds.values()}
    if app.settings.sender_address:
        own_addresses.add(app.settings.sender_address.lower())
    return _Context(list(indexes.values()), rounds, parties, own_addresses, own_ids)


def _write(session: Session, app: App, ctx: _Context, items: list[_Item]) -> None:
    """Every row of the batch in bulk statements: responses, attachments, remarks, raw states."""
    if not items:
        return
    # Before the Message-ID look-up: a parallel batch's responses are then committed and seen.
    lock_rounds(session, {item.round_id for item in items})
    _dedupe(session, items)
    _number(session, items)
    response_ids = _insert_responses(session, items)
    by_raw = {item.raw.id: response_ids[n] for n, item in enumerate(items)}
    for item in items:
        if item.duplicate_of_raw is not None:
            item.duplicate_of = by_raw[item.duplicate_of_raw]
    duplicates = [{"id": by_raw[i.raw.id], "duplicate_of": i.duplicate_of} for i in items if i.duplicate_of]
    if duplicates:
        session.execute(update(ResponseRow), duplicates)
    _insert_attachments(session, app, items, response_ids)
    _insert_remarks(session, items, response_ids)
    session.execute(
        update(RawMessageRow),
        [
            {"id": i.raw.id, "state": "processed", "round_id": i.round_id, "message_id": _message_id(i)}
            for i in items
        ],
    )
    for item in items:
        if item.kind == Kind.BOUNCE.value and not item.verdict.temporary:
            _mark_bounced(session, item.round_id, item.parsed, item.verdict)
    _queue_follow_ups(session, app, ctx, items, response_ids)
    session.execute(
        insert(EventRow),
        [
            {
                "round_id": i.round_id,
                "run_id": app.run_id,
                "step": "collect",
                "kind": i.kind,
                "at": app.now(),
                "detail": {"response": i.reference, "party": i.party.name if i.party else None},
            }
            for i in items
        ],
    )


def _message_id(item: _Item) -> str | None:
    return (item.parsed.message_id or "")[:400] or None


def _dedupe(session: Session, items: list[_Item]) -> None:
    """Same Message-ID: the same text is a copy (linked), other text a collision (both kept)."""
    keyed = [i for i in items if i.kind == Kind.RESPONSE.value and _message_id(i)]
    if not keyed:
        return
    seen: dict[tuple[str, str | None], tuple[int | None, int | None, str]] = {}
    for chunk in range(0, len(keyed), 500):
        ids = {str(_message_id(i)) for i in keyed[chunk : chunk + 500]}
        rows = session.execute(
            select(ResponseRow.round_id, ResponseRow.message_id, ResponseRow.id, ResponseRow.full_text)
            .where(ResponseRow.message_id.in_(ids), ResponseRow.kind == Kind.RESPONSE.value)
            .order_by(ResponseRow.number.desc())
        )
        for round_id, message_id, row_id, text in rows:
            seen[(round_id, message_id)] = (row_id, None, _normal(text))
    for item in keyed:
        key = (item.round_id, str(_message_id(item)))
        earlier = seen.get(key)
        text = _normal(item.parsed.body_text)
        if earlier is None:
            seen[key] = (None, item.raw.id, text)
        elif earlier[2] == text:
            item.kind = Kind.DUPLICATE.value
            item.duplicate_of, item.duplicate_of_raw = earlier[0], earlier[1]
        else:
            item.collision = True


def _number(session: Session, items: list[_Item]) -> None:
    """Take a block of numbers per round from its counter (safe with batches in parallel)."""
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.round_id] = wanted.get(item.round_id, 0) + 1
    start: dict[str, int] = {}
    for round_id, count in wanted.items():
        statement = (
            update(RoundRow)
            .where(RoundRow.id == round_id)
            .values(next_number=RoundRow.next_number + count)
            .returning(RoundRow.next_number)
            .execution_options(synchronize_session=False)
        )
        start[round_id] = int(session.execute(statement).scalar_one()) - count
    for item in items:
        item.number = start[item.round_id]
        start[item.round_id] += 1


def _insert_responses(session: Session, items: list[_Item]) -> list[int]:
    rows = [_response_values(item) for item in items]
    result = session.execute(
        insert(ResponseRow).returning(ResponseRow.id, sort_by_parameter_order=True), rows
    )
    return [int(row_id) for row_id in result.scalars()]


def _response_values(item: _Item) -> dict[str, object]:
    parsed, party, raw = item.parsed, item.party, item.raw
    return {
        "round_id": item.round_id,
        "raw_message_id": raw.id,
        "number": item.number,
        "reference": item.reference,
        "kind": item.kind,
        "channel": _channel(raw, parsed).value,
        "party_id": party.id if party is not None else None,
        "matched_by": item.matched_by,
        "sender": (parsed.from_address or "")[:400],
        "sender_display": parsed.from_display[:1000],
        "subject": parsed.subject[:2000],
        "message_id": _message_id(item),
        "received_at": raw.received_at,
        "late": item.late,
        "text": item.text,
        "full_text": parsed.body_text,
        "no_remarks": item.no_remarks and item.kind == Kind.RESPONSE.value,
        "verified": item.verdict.verified,
        "held": bool(item.holds) and item.kind == Kind.RESPONSE.value,
        "review_reason": _review_reason(item) or None,
        "decision": None,
        "duplicate_of": item.duplicate_of,
        "campaign_key": None,
        "details": {
            "defects": parsed.defects[:20],
            "forwarded_author": parsed.forwarded_author,
            "receipt_time_from": raw.received_from,
            "verdict": item.verdict.reason,
        },
    }


def _insert_attachments(session: Session, app: App, items: list[_Item], response_ids: list[int]) -> None:
    rows = []
    for item, response_id in zip(items, response_ids, strict=True):
        for attachment in item.parsed.attachments:
            path = attachment.stored_path  # usually written by the parse worker
            if path is None and attachment.data:
                # Derived from the raw message (stored durably already): no fsync needed here.
                _sha, stored = app.file_store.put(attachment.data, durable=False)
                path = str(stored)
            rows.append(
                {
                    "response_id": response_id,
                    "sha256": attachment.sha256,
                    "path": path,
                    "display_name": attachment.display_name,
                    "content_type": attachment.content_type[:200],
                    "size": attachment.size,
                    "status": "inline" if attachment.inline else ("problem" if attachment.problem else "ok"),
                    "reason": attachment.problem,
                    "text": attachment.text,
                }
            )
    if rows:
        session.execute(insert(AttachmentRow), rows)


def _insert_remarks(session: Session, items: list[_Item], response_ids: list[int]) -> None:
    rows = []
    for item, response_id in zip(items, response_ids, strict=True):
        if item.kind != Kind.RESPONSE.value or item.no_remarks:
            continue
        for position, remark in enumerate(item.remarks, start=1):
            rows.append(
                {
                    "round_id": item.round_id,
                    "response_id": response_id,
                    "number": f"{item.number}.{position}",
                    "position": position,
                    "section": remark.section,
                    "text": remark.text,
                    "proposal": remark.proposal,
                }
            )
    if rows:
        session.execute(insert(RemarkRow), rows)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _channel(raw: _Raw, parsed: ParsedMessage) -> Channel:
    if _has_template_remarks(parsed):
        return Channel.TEMPLATE
    if raw.source == "drop" and not raw.name.lower().endswith(".eml"):
        return Channel.MANUAL
    return Channel.EMAIL


def _has_template_remarks(parsed: ParsedMessage) -> bool:
    return any(a.is_template and a.remarks for a in parsed.attachments)


def _remarks(parsed: ParsedMessage) -> list[Remark]:
    """Template rows one remark each; otherwise the answer, plus each letter attached."""
    remarks: list[Remark] = []
    answer = parsed.answer_text.strip()
    if answer and not (_has_template_remarks(parsed) and len(answer.split()) < 40):
        remarks.append(Remark(section="", text=answer))
    for attachment in parsed.attachments:
        if attachment.inline:
            continue
        if attachment.is_template:
            remarks.extend(attachment.remarks)
        elif attachment.text.strip():
            remarks.append(Remark(section=f"Bilag: {attachment.display_name}", text=attachment.text.strip()))
    return remarks


def _response_text(parsed: ParsedMessage, remarks: list[Remark]) -> str:
    if not _has_template_remarks(parsed) and not any(r.section.startswith("Bilag") for r in remarks):
        return parsed.answer_text.strip()
    parts = []
    for remark in remarks:
        head = f"{remark.section}: " if remark.section else ""
        tail = f"\nForslag til ændring: {remark.proposal}" if remark.proposal else ""
        parts.append(f"{head}{remark.text}{tail}")
    return "\n\n".join(parts)


def _review_reason(item: _Item) -> str:
    """Why a person should look at this item (empty when nobody needs to)."""
    parsed, verdict, kind = item.parsed, item.verdict, item.kind
    reasons: list[str] = []
    if kind == Kind.BOUNCE.value:
        reasons.append(verdict.reason or "Returmail: en invitation kunne ikke leveres")
    elif kind == Kind.AUTO_REPLY.value:
        reasons.append(verdict.reason or "Automatisk svar (fx fravær) – tælles ikke med")
    elif kind == Kind.RESPONSE.value:
        if item.party is None:
            who = parsed.from_address or "ukendt"
            reasons.append(f"Ukendt afsender: {who} er ikke en høringspart – tælles ikke, før det medtages")
        if verdict.verified == "fail":
            reasons.append(UNVERIFIED_REASON)
        reasons.extend(item.holds)
        if item.party is None and verdict.verified == "none" and not item.holds:
            reasons.append(NO_RECEIPT_REASON)
        if parsed.forwarded_author:
            reasons.append(
                f"Videresendt besked; den oprindelige afsender {parsed.forwarded_author} er ikke verificeret"
            )
        if item.collision:
            reasons.append("Samme Message-ID som et tidligere svar, men andet indhold")
        if not parsed.body_text.strip() and not parsed.attachments:
            reasons.append("Svaret er tomt")
    reasons.extend(parsed.problems)
    reasons.extend(f"{a.display_name}: {a.problem}" for a in parsed.attachments if a.problem)
    return "; ".join(dict.fromkeys(reasons))


def _mark_bounced(session: Session, round_id: str, parsed: ParsedMessage, verdict: Classification) -> None:
    """The invitation (or reminder) a bounce returns: by its Message-ID, else by the recipient.

    Looked up through indexes, never by reading the round's outbox: a round sends a receipt per
    response, so that outbox grows with the round and a scan per bounce would be quadratic.
    """
    ids = {i.strip("<>") for i in [*verdict.bounced_message_ids, parsed.returned_message_id or ""] if i}
    query = select(OutboxRow).where(OutboxRow.round_id == round_id, OutboxRow.purpose.in_(THREAD_PURPOSES))
    if ids:
        query = query.where(OutboxRow.message_id.in_(sorted(ids | {f"<{i}>" for i in ids})))
    else:
        recipients = {r.lower() for r in verdict.bounced_recipients}
        if not recipients:
            return
        query = query.where(OutboxRow.address.in_(sorted(recipients)))
    for row in session.scalars(query):
        row.state = OutboxState.BOUNCED.value


def _queue_follow_ups(
    session: Session, app: App, ctx: _Context, items: list[_Item], response_ids: list[int]
) -> None:
    """A receipt per response (at most one a day per address); a reply on an unreadable template."""
    senders = {
        i.parsed.from_address for i in items if i.kind == Kind.RESPONSE.value and i.parsed.from_address
    }
    recent = _receipts_since(session, app.now() - timedelta(days=1), senders)
    queued: list[Queued] = []
    for item, response_id in zip(items, response_ids, strict=True):
        sender = item.parsed.from_address
        if not sender or not _may_answer(item) or sender in ctx.own_addresses:
            continue
        rnd = ctx.rounds[item.round_id]
        values = {
            "round_id": rnd.id,
            "title": rnd.title,
            "administration": rnd.administration,
            "subject": item.parsed.subject or rnd.title,
            "received": short_datetime(item.raw.received_at),
            "reference": item.reference,
            "reply_to": rnd.reply_to,
        }
        if sender not in recent:
            recent.add(sender)
            queued.append(
                Queued(
                    rnd.id,
                    "receipt",
                    sender,
                    f"receipt:{rnd.id}:{item.reference}",
                    "receipt",
                    values,
                    party_id=item.party.id if item.party else None,
                    response_id=response_id,
                    in_reply_to=item.parsed.message_id and f"<{item.parsed.message_id}>",
                    auto_submitted="auto-replied",
                )
            )
        # A template we could not read at all (not merely one with ignored macros) gets a reply.
        rejected = [a for a in item.parsed.attachments if a.is_template and a.problem and not a.remarks]
        if rejected and app.settings.smtp_url is not None:
            queued.append(
                Queued(
                    rnd.id,
                    "template_rejected",
                    sender,
                    f"template_rejected:{rnd.id}:{item.reference}",
                    "template_rejected",
                    values | {"reason": str(rejected[0].problem)},
                    party_id=item.party.id if item.party else None,
                    response_id=response_id,
                    auto_submitted="auto-replied",
                )
            )
    queue(session, app, queued)


def _may_answer(item: _Item) -> bool:
    """Whether we may write back to the sender (receipt, template reply): never backscatter.

    Only a response that is not held, whose sender is not unverified, and that is either matched
    to a party or whose From domain our own server authenticated (``verified == "pass"``). A
    forged or unknown sender gets nothing: the address it shows may belong to someone else.
    """
    if item.kind != Kind.RESPONSE.value or item.holds or item.verdict.verified == "fail":
        return False
    return item.party is not None or item.verdict.verified == "pass"


def _receipts_since(session: Session, since: datetime, senders: set[str]) -> set[str]:
    """Which senders got a receipt after ``since``: at most one a day each, so no loop can start.

    Asks about one slice's senders only (at most ``WRITE_EVERY``, indexed), so the cost does not
    grow with the round.
    """
    if not senders:
        return set()
    query = select(OutboxRow.address).where(
        OutboxRow.address.in_(sorted(senders)),
        OutboxRow.purpose == "receipt",
        OutboxRow.created_at > since,
    )
    return set(session.scalars(query))
