"""The outbox: every message hoering sends is a row first, committed before it is sent.

``enqueue`` inserts rows idempotently (a unique ``dedupe_key`` per recipient and purpose, the
Message-ID generated at insert); ``deliver`` sends what is due, marking a row ``sending`` in its
own commit before the SMTP conversation so a crash mid-send is recognised on the next run and
re-sent with the same Message-ID, flagged as a possible duplicate.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.mail_compose import Outgoing, OutgoingAttachment, attachment_from_path_type, compose
from flows.adapters.ports import SendResult
from flows.adapters.raw_store import open_regular
from flows.bootstrap import App
from flows.core.errors import DraftUnavailableError
from flows.core.model import OutboxPurpose, OutboxState, Round
from flows.core.outbox import DUE_STATES, Attempt, OutboxItem, OutboxMessage
from flows.core.sending import next_attempt

__all__ = ["DUE_STATES", "DeliveryReport", "OutboxItem", "deliver", "enqueue", "render"]


@dataclass
class DeliveryReport:
    sent: int = 0
    temp_failed: int = 0
    perm_failed: int = 0
    possible_duplicates: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


def enqueue(uow: UnitOfWork, app: App, items: Sequence[OutboxItem]) -> int:
    """Queue outbox rows that do not exist yet, in the caller's transaction; how many were new."""
    if not items:
        return 0
    return uow.outbox.add(items, domain=app.settings.mail_domain, at=app.now())


def deliver(app: App, round_id: str, *, purposes: tuple[OutboxPurpose, ...] | None = None) -> DeliveryReport:
    """Send every due row of the round; per-row outcome recorded; never raises for one row."""
    report = DeliveryReport()
    # a caller outside the typed package (a test, a script) may still name purposes as strings
    wanted = tuple(OutboxPurpose(p) for p in purposes) if purposes else None
    with app.uow() as uow:
        due = uow.outbox.due(round_id, wanted, app.now())
    if not due:
        return report
    mailer = app.mailer()
    rng = random.Random()
    try:
        for outbox_id in due:
            claimed = _claim(app, outbox_id)
            if claimed is None:
                continue
            row, message = claimed
            result = mailer.send(message, row.address)
            _record(app, row, result, rng, report)
    finally:
        mailer.close()
    return report


def _claim(app: App, outbox_id: int) -> tuple[OutboxMessage, EmailMessage] | None:
    """Mark the row ``sending`` and commit, then hand back the row as claimed and its message."""
    with app.uow() as uow:
        row = uow.outbox.get(outbox_id)
        if row is None or row.state not in DUE_STATES:
            return None
        message = render(app, row, uow.rounds.get(row.round_id))
        uow.outbox.mark_sending(outbox_id, str(message["Subject"]))
        return row, message


def _record(
    app: App, row: OutboxMessage, result: SendResult, rng: random.Random, report: DeliveryReport
) -> None:
    """``row`` as it was claimed: its ``attempts`` one short of the claim's, its state before it."""
    was_sending = row.state == OutboxState.SENDING
    now = app.now()
    state, next_at, duplicate = next_attempt(
        result, row.attempts + 1, max_attempts=app.settings.smtp_max_attempts, now=now, rng=rng
    )
    possible_duplicate = row.possible_duplicate or duplicate or was_sending
    attempt = Attempt(
        state=state,
        next_attempt_at=next_at,
        possible_duplicate=possible_duplicate,
        code=result.code,
        text=(result.text or "")[:2000],
        location=result.location or row.location,
        sent_at=now if state == OutboxState.SENT else None,
    )
    with app.uow() as uow:
        uow.outbox.record(row.id, attempt)
        uow.events.add(
            row.round_id, "send", str(state), outbox_id=row.id, purpose=row.purpose, code=result.code
        )
    if state == OutboxState.SENT:
        report.sent += 1
    elif state == OutboxState.PERM_FAILED:
        report.perm_failed += 1
        report.failures.append({"address": row.address, "code": result.code, "text": result.text})
    else:
        report.temp_failed += 1
    report.possible_duplicates += int(possible_duplicate)


def _draft(path: Path) -> OutgoingAttachment:
    """A document of the round, read again at send time as the regular file ``open`` accepted.

    The stored path is the resolved one, so a symlink (or a fifo, a folder) found there now was
    put in since: it is not followed. A draft that is gone stops the sending (the claim's
    transaction rolls back, the row stays due) instead of an invitation going out without it.
    """
    try:
        fd, _info = open_regular(path)
    except OSError as exc:
        raise DraftUnavailableError(path.name) from exc
    with os.fdopen(fd, "rb") as handle:
        data = handle.read()
    return OutgoingAttachment(path.name, data, attachment_from_path_type(path))


def render(app: App, row: OutboxMessage, rnd: Round) -> EmailMessage:
    payload = row.payload
    attachments: list[OutgoingAttachment] = []
    if row.purpose == OutboxPurpose.INVITATION:
        attachments = [_draft(Path(p)) for p in rnd.documents]
        if payload.get("template_party"):
            attachments.append(_template_attachment(rnd, str(payload["template_party"])))
    if payload.get("document"):  # the final note of `hoering conclude`, kept in the data folder
        attachments = [_draft(Path(str(payload["document"])))]
    return compose(
        Outgoing(
            template=str(payload["template"]),
            values={k: str(v) for k, v in payload["values"].items()},
            sender=app.settings.sender_address or rnd.reply_to,
            sender_name=rnd.administration,
            recipient=row.address,
            reply_to=rnd.reply_to,
            message_id=row.message_id,
            round_id=rnd.id,
            auto_submitted=str(payload.get("auto_submitted") or "auto-generated"),
            in_reply_to=payload.get("in_reply_to"),
            attachments=attachments,
        )
    )


def _template_attachment(rnd: Round, party: str) -> OutgoingAttachment:
    from flows.adapters.response_template import build_template
    from flows.core.danish import deadline_text

    data = build_template(rnd.id, rnd.title, party, deadline_text(rnd.deadline))
    return OutgoingAttachment(
        f"hoeringsskema-{rnd.id}.xlsx",
        data,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
