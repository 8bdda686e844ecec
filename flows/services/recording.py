"""Write a slice of judged messages: responses, attachments, remarks, raw states, follow-ups.

Every kind of row goes in one bulk statement per slice (``WRITE_EVERY`` messages); the only
reads are indexed lookups of this slice's Message-IDs and senders, so the cost of a slice does
not grow with the round.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flows.adapters.db.unit_of_work import UnitOfWork
from flows.bootstrap import App
from flows.core.danish import short_datetime
from flows.core.model import Kind, OutboxPurpose
from flows.core.outbox import OutboxItem
from flows.core.responses import channel, same_text_key
from flows.core.review import may_answer, review_reason
from flows.services.judging import IngestContext, Item
from flows.services.outbox import enqueue


def write(uow: UnitOfWork, app: App, ctx: IngestContext, items: list[Item]) -> None:
    """Every row of the slice in bulk statements: responses, attachments, remarks, raw states."""
    if not items:
        return
    repo = uow.responses
    # Before the Message-ID look-up: a parallel batch's responses are then committed and seen.
    repo.lock_rounds({item.round_id for item in items})
    dedupe(uow, items)
    number(uow, items)
    response_ids = repo.insert_responses([response_values(item) for item in items])
    by_raw = {item.raw.id: response_ids[n] for n, item in enumerate(items)}
    for item in items:
        if item.duplicate_of_raw is not None:
            item.duplicate_of = by_raw[item.duplicate_of_raw]
    repo.link_duplicates(
        [{"id": by_raw[i.raw.id], "duplicate_of": i.duplicate_of} for i in items if i.duplicate_of]
    )
    repo.insert_attachments(attachment_values(app, items, response_ids))
    repo.insert_remarks(remark_values(items, response_ids))
    repo.mark_processed([{"id": i.raw.id, "round_id": i.round_id, "message_id": i.message_id} for i in items])
    for item in items:
        if item.kind == Kind.BOUNCE.value and not item.verdict.temporary:
            ids = [*item.verdict.bounced_message_ids, item.parsed.returned_message_id or ""]
            uow.outbox.mark_bounced(
                item.round_id,
                {i.strip("<>") for i in ids if i},
                {r.lower() for r in item.verdict.bounced_recipients},
            )
    queue_follow_ups(uow, app, ctx, items, response_ids)
    uow.events.add_many(
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
        ]
    )


def dedupe(uow: UnitOfWork, items: list[Item]) -> None:
    """Same Message-ID: the same text is a copy (linked), other text a collision (both kept)."""
    keyed = [i for i in items if i.kind == Kind.RESPONSE.value and i.message_id]
    if not keyed:
        return
    seen: dict[tuple[str, str | None], tuple[int | None, int | None, str]] = {}
    for chunk in range(0, len(keyed), 500):
        ids = {str(i.message_id) for i in keyed[chunk : chunk + 500]}
        for round_id, message_id, row_id, text in uow.responses.earlier(ids):
            seen[(round_id, message_id)] = (row_id, None, same_text_key(text))
    for item in keyed:
        key = (item.round_id, str(item.message_id))
        earlier = seen.get(key)
        text = same_text_key(item.parsed.body_text)
        if earlier is None:
            seen[key] = (None, item.raw.id, text)
        elif earlier[2] == text:
            item.kind = Kind.DUPLICATE.value
            item.duplicate_of, item.duplicate_of_raw = earlier[0], earlier[1]
        else:
            item.collision = True


def number(uow: UnitOfWork, items: list[Item]) -> None:
    """Take a block of numbers per round from its counter (safe with batches in parallel)."""
    wanted: dict[str, int] = {}
    for item in items:
        wanted[item.round_id] = wanted.get(item.round_id, 0) + 1
    start = {round_id: uow.responses.take_numbers(round_id, count) for round_id, count in wanted.items()}
    for item in items:
        item.number = start[item.round_id]
        start[item.round_id] += 1


def response_values(item: Item) -> dict[str, Any]:
    parsed, party, raw = item.parsed, item.party, item.raw
    is_response = item.kind == Kind.RESPONSE.value
    return {
        "round_id": item.round_id,
        "raw_message_id": raw.id,
        "number": item.number,
        "reference": item.reference,
        "kind": item.kind,
        "channel": channel(parsed, raw.source, raw.name).value,
        "party_id": party.id if party is not None else None,
        "matched_by": item.matched_by,
        "sender": (parsed.from_address or "")[:400],
        "sender_display": parsed.from_display[:1000],
        "subject": parsed.subject[:2000],
        "message_id": item.message_id,
        "received_at": raw.received_at,
        "late": item.late,
        "text": item.text,
        "full_text": parsed.body_text,
        "no_remarks": item.no_remarks and is_response,
        "verified": item.verdict.verified,
        "held": bool(item.holds) and is_response,
        "review_reason": review_reason(
            parsed,
            item.verdict,
            item.kind,
            has_party=party is not None,
            holds=item.holds,
            collision=item.collision,
        )
        or None,
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


def attachment_values(app: App, items: list[Item], response_ids: list[int]) -> list[dict[str, Any]]:
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
    return rows


def remark_values(items: list[Item], response_ids: list[int]) -> list[dict[str, Any]]:
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
    return rows


def queue_follow_ups(
    uow: UnitOfWork, app: App, ctx: IngestContext, items: list[Item], response_ids: list[int]
) -> None:
    """A receipt per response (at most one a day per address); a reply on an unreadable template.

    Asks which of this slice's senders got a receipt in the last day (at most ``WRITE_EVERY``
    addresses, indexed), so no loop can start and the cost does not grow with the round.
    """
    senders = {
        i.parsed.from_address for i in items if i.kind == Kind.RESPONSE.value and i.parsed.from_address
    }
    recent = uow.outbox.receipts_since(app.now() - timedelta(days=1), senders)
    queued: list[OutboxItem] = []
    for item, response_id in zip(items, response_ids, strict=True):
        sender = item.parsed.from_address
        answerable = may_answer(
            item.kind, held=bool(item.holds), verified=item.verdict.verified, has_party=item.party is not None
        )
        if not sender or not answerable or sender in ctx.own_addresses:
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
        party_id = item.party.id if item.party else None
        if sender not in recent:
            recent.add(sender)
            queued.append(
                OutboxItem(
                    rnd.id,
                    OutboxPurpose.RECEIPT,
                    sender,
                    f"receipt:{rnd.id}:{item.reference}",
                    "receipt",
                    values,
                    party_id=party_id,
                    response_id=response_id,
                    in_reply_to=item.parsed.message_id and f"<{item.parsed.message_id}>",
                    auto_submitted="auto-replied",
                )
            )
        # A template we could not read at all (not merely one with ignored macros) gets a reply.
        rejected = [a for a in item.parsed.attachments if a.is_template and a.problem and not a.remarks]
        if rejected and app.settings.smtp_url is not None:
            queued.append(
                OutboxItem(
                    rnd.id,
                    OutboxPurpose.TEMPLATE_REJECTED,
                    sender,
                    f"template_rejected:{rnd.id}:{item.reference}",
                    "template_rejected",
                    values | {"reason": str(rejected[0].problem)},
                    party_id=party_id,
                    response_id=response_id,
                    auto_submitted="auto-replied",
                )
            )
    enqueue(uow, app, queued)
