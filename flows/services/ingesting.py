"""Turn stored raw messages into classified, matched, recorded items of a round.

One transaction per batch, a savepoint per message: one bad message is quarantined after
``MAX_ATTEMPTS`` tries and never stops the batch.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flows.adapters.db.tables import (
    AttachmentRow,
    OutboxRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
    RoundRow,
)
from flows.adapters.dropped import parse_dropped_file
from flows.adapters.mailparse import parse_message
from flows.bootstrap import App
from flows.core.bodytext import is_no_remarks
from flows.core.classify import Classification, classify
from flows.core.danish import short_datetime
from flows.core.deadline import effective_deadline, is_late
from flows.core.matching import RoundIndex, match_party, route
from flows.core.message import ParsedMessage
from flows.core.model import Channel, Kind, OutboxState, Remark
from flows.services.collecting import MAX_ATTEMPTS
from flows.services.outbox import Queued, queue

log = logging.getLogger(__name__)
THREAD_PURPOSES = ("invitation", "reminder", "extension")


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


def process_batch(app: App, collecting_round: str, raw_ids: list[int]) -> ProcessReport:
    """Parse outside any transaction (CPU work, safe to run in parallel), then record in one."""
    report = ProcessReport()
    parsed = _parse_stored(app, raw_ids)
    with app.db.transaction() as session:
        context = _load_context(session, app)
        for raw_id, outcome in parsed.items():
            raw = session.get(RawMessageRow, raw_id)
            if raw is None or raw.state != "stored":
                continue
            try:
                if isinstance(outcome, Exception):
                    raise outcome
                with session.begin_nested():
                    kind = _process_one(session, app, context, raw, outcome, collecting_round)
                report.processed += 1
                report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
                report.responses += int(kind == Kind.RESPONSE.value)
                report.set_aside += int(kind != Kind.RESPONSE.value)
            except Exception as exc:  # one poison message must not stop the batch
                _record_failure(session, app, raw, exc, collecting_round, report)
    return report


def _parse_stored(app: App, raw_ids: list[int]) -> dict[int, ParsedMessage | Exception]:
    with app.db.transaction() as session:
        rows = session.execute(
            select(RawMessageRow.id, RawMessageRow.path, RawMessageRow.source, RawMessageRow.source_name)
            .where(RawMessageRow.id.in_(raw_ids), RawMessageRow.state == "stored")
            .order_by(RawMessageRow.received_at, RawMessageRow.id)
        ).all()
    parsed: dict[int, ParsedMessage | Exception] = {}
    for raw_id, path, source, name in rows:
        try:
            parsed[raw_id] = _parse(app, Path(path), source, name)
        except Exception as exc:  # recorded on the row below, never raised
            parsed[raw_id] = exc
    return parsed


def _record_failure(
    session: Session,
    app: App,
    raw: RawMessageRow,
    exc: Exception,
    collecting_round: str,
    report: ProcessReport,
) -> None:
    raw.attempts += 1
    raw.error = f"{type(exc).__name__}: {exc}"[:2000]
    if raw.attempts >= MAX_ATTEMPTS:
        raw.state = "quarantined"
        report.quarantined += 1
        app.event(session, collecting_round, "collect", "quarantined", raw_id=raw.id, error=raw.error)
    report.problems.append(f"besked {raw.id}: {raw.error}")
    log.warning("message %s could not be processed: %s", raw.id, raw.error)


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
        index.by_name[party.name.casefold()] = party.id
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


def _parse(app: App, path: Path, source: str, name: str) -> ParsedMessage:
    data = path.read_bytes()
    if source == "drop":
        return parse_dropped_file(name, data, max_bytes=app.settings.max_message_bytes)
    return parse_message(data, max_bytes=app.settings.max_message_bytes)


def _process_one(
    session: Session,
    app: App,
    ctx: _Context,
    raw: RawMessageRow,
    parsed: ParsedMessage,
    collecting_round: str,
) -> str:
    verdict = classify(
        parsed,
        own_addresses=ctx.own_addresses,
        own_message_ids=ctx.own_ids,
        authserv_id=app.settings.authserv_id,
    )
    round_id = route(parsed, ctx.indexes, collecting_round)
    index = next(i for i in ctx.indexes if i.round_id == round_id)
    rnd = ctx.rounds[round_id]
    match = match_party(parsed, index) if verdict.kind == Kind.RESPONSE else None
    party = ctx.parties.get(match.party_id) if match and match.party_id else None
    kind, duplicate_of, collision = _dedupe(session, round_id, parsed, verdict.kind)
    response = ResponseRow(
        round_id=round_id,
        raw_message_id=raw.id,
        number=_next_number(session, ctx, round_id),
        kind=kind,
        channel=_channel(raw, parsed).value,
        party_id=party.id if party else None,
        matched_by=match.matched_by if match else None,
        sender=(parsed.from_address or "")[:400],
        sender_display=parsed.from_display[:1000],
        subject=parsed.subject[:2000],
        message_id=(parsed.message_id or "")[:400] or None,
        received_at=raw.received_at,
        late=is_late(
            raw.received_at, effective_deadline(rnd.deadline, party.extended_until if party else None)
        ),
        full_text=parsed.body_text,
        verified=verdict.verified,
        duplicate_of=duplicate_of,
        details={"defects": parsed.defects[:20], "forwarded_author": parsed.forwarded_author},
    )
    response.reference = f"{round_id}-{response.number:04d}"
    remarks = _remarks(parsed)
    response.text = _response_text(parsed, remarks)
    response.no_remarks = (
        kind == Kind.RESPONSE.value
        and not _has_template_remarks(parsed)
        and is_no_remarks(parsed.answer_text or parsed.body_text)
    )
    response.review_reason = _review_reason(parsed, verdict, kind, party, collision, response) or None
    session.add(response)
    session.flush()
    _store_attachments(session, app, response, parsed)
    if kind == Kind.RESPONSE.value and not response.no_remarks:
        for position, remark in enumerate(remarks, start=1):
            session.add(
                RemarkRow(
                    round_id=round_id,
                    response_id=response.id,
                    number=f"{response.number}.{position}",
                    position=position,
                    section=remark.section,
                    text=remark.text,
                    proposal=remark.proposal,
                )
            )
    if kind == Kind.BOUNCE.value and not verdict.temporary:
        _mark_bounced(session, round_id, parsed, verdict)
    _queue_follow_ups(session, app, ctx, rnd, response, parsed, verdict)
    raw.state, raw.round_id = "processed", round_id
    raw.message_id = response.message_id
    app.event(
        session, round_id, "collect", kind, response=response.reference, party=party.name if party else None
    )
    return kind


def _next_number(session: Session, ctx: _Context, round_id: str) -> int:
    """The round's next response number, from its counter (safe with batches in parallel)."""
    statement = (
        update(RoundRow)
        .where(RoundRow.id == round_id)
        .values(next_number=RoundRow.next_number + 1)
        .returning(RoundRow.next_number)
        .execution_options(synchronize_session=False)
    )
    return int(session.execute(statement).scalar_one()) - 1


def _dedupe(
    session: Session, round_id: str, parsed: ParsedMessage, kind: Kind
) -> tuple[str, int | None, bool]:
    """Same Message-ID: the same text is a copy (linked), other text a collision (both kept)."""
    if kind != Kind.RESPONSE or not parsed.message_id:
        return kind.value, None, False
    earlier = session.scalars(
        select(ResponseRow)
        .where(
            ResponseRow.round_id == round_id,
            ResponseRow.message_id == parsed.message_id[:400],
            ResponseRow.kind == Kind.RESPONSE.value,
        )
        .order_by(ResponseRow.number)
    ).first()
    if earlier is None:
        return kind.value, None, False
    if _normal(earlier.full_text) == _normal(parsed.body_text):
        return Kind.DUPLICATE.value, earlier.id, False
    return kind.value, None, True


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _channel(raw: RawMessageRow, parsed: ParsedMessage) -> Channel:
    if _has_template_remarks(parsed):
        return Channel.TEMPLATE
    if raw.source == "drop" and not raw.source_name.lower().endswith(".eml"):
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


def _review_reason(
    parsed: ParsedMessage,
    verdict: Classification,
    kind: str,
    party: PartyRow | None,
    collision: bool,
    response: ResponseRow,
) -> str:
    reasons: list[str] = []
    if kind == Kind.BOUNCE.value:
        reasons.append(verdict.reason or "Returmail: en invitation kunne ikke leveres")
    elif kind == Kind.AUTO_REPLY.value:
        reasons.append(verdict.reason or "Automatisk svar (fx fravær) – tælles ikke med")
    elif kind == Kind.RESPONSE.value:
        if party is None:
            who = parsed.from_address or "ukendt"
            reasons.append(f"Ukendt afsender: {who} er ikke en høringspart – tælles ikke, før det medtages")
        if verdict.verified == "fail":
            reasons.append(
                "Afsenderen kunne ikke verificeres (DMARC/SPF fejlede) – tælles ikke, før det medtages"
            )
        if parsed.forwarded_author:
            reasons.append(
                f"Videresendt besked; den oprindelige afsender {parsed.forwarded_author} er ikke verificeret"
            )
        if collision:
            reasons.append("Samme Message-ID som et tidligere svar, men andet indhold")
        if not response.full_text.strip() and not parsed.attachments:
            reasons.append("Svaret er tomt")
    reasons.extend(parsed.problems)
    reasons.extend(f"{a.display_name}: {a.problem}" for a in parsed.attachments if a.problem)
    return "; ".join(dict.fromkeys(reasons))


def _store_attachments(session: Session, app: App, response: ResponseRow, parsed: ParsedMessage) -> None:
    for attachment in parsed.attachments:
        path = None
        if attachment.data:
            _sha, stored = app.file_store.put(attachment.data)
            path = str(stored)
        status = "inline" if attachment.inline else ("problem" if attachment.problem else "ok")
        session.add(
            AttachmentRow(
                response_id=response.id,
                sha256=attachment.sha256,
                path=path,
                display_name=attachment.display_name,
                content_type=attachment.content_type[:200],
                size=len(attachment.data),
                status=status,
                reason=attachment.problem,
                text=attachment.text,
            )
        )


def _mark_bounced(session: Session, round_id: str, parsed: ParsedMessage, verdict: Classification) -> None:
    ids = {i.strip("<>") for i in [*verdict.bounced_message_ids, parsed.returned_message_id or ""] if i}
    rows = session.scalars(
        select(OutboxRow).where(OutboxRow.round_id == round_id, OutboxRow.purpose.in_(THREAD_PURPOSES))
    )
    recipients = {r.lower() for r in verdict.bounced_recipients}
    for row in rows:
        if row.message_id.strip("<>") in ids or (not ids and row.address in recipients):
            row.state = OutboxState.BOUNCED.value


def _queue_follow_ups(
    session: Session,
    app: App,
    ctx: _Context,
    rnd: RoundRow,
    response: ResponseRow,
    parsed: ParsedMessage,
    verdict: Classification,
) -> None:
    """A receipt per response (at most one a day per address); a reply on an unreadable template."""
    sender = parsed.from_address
    if response.kind != Kind.RESPONSE.value or not sender or verdict.verified == "fail":
        return
    if sender in ctx.own_addresses:
        return
    values = {
        "round_id": rnd.id,
        "title": rnd.title,
        "administration": rnd.administration,
        "subject": response.subject or rnd.title,
        "received": short_datetime(response.received_at),
        "reference": response.reference,
        "reply_to": rnd.reply_to,
    }
    items: list[Queued] = []
    if sender not in ctx.receipts_today and not _receipt_sent_recently(session, sender, app.now()):
        ctx.receipts_today.add(sender)
        items.append(
            Queued(
                rnd.id,
                "receipt",
                sender,
                f"receipt:{rnd.id}:{response.reference}",
                "receipt",
                values,
                party_id=response.party_id,
                response_id=response.id,
                in_reply_to=parsed.message_id and f"<{parsed.message_id}>",
                auto_submitted="auto-replied",
            )
        )
    # A template we could not read at all (not merely one with ignored macros) gets a reply.
    rejected = [a for a in parsed.attachments if a.is_template and a.problem and not a.remarks]
    if rejected and app.settings.smtp_url is not None:
        items.append(
            Queued(
                rnd.id,
                "template_rejected",
                sender,
                f"template_rejected:{rnd.id}:{response.reference}",
                "template_rejected",
                values | {"reason": str(rejected[0].problem)},
                party_id=response.party_id,
                response_id=response.id,
                auto_submitted="auto-replied",
            )
        )
    queue(session, app, items)


def _receipt_sent_recently(session: Session, address: str, now: datetime) -> bool:
    since = now - timedelta(days=1)
    found = session.scalar(
        select(func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.purpose == "receipt", OutboxRow.address == address, OutboxRow.created_at > since)
    )
    return bool(found)
