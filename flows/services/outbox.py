"""The outbox: every message hoering sends is a row first, committed before it is sent.

``queue`` inserts rows idempotently (a unique ``dedupe_key`` per recipient and purpose, the
Message-ID generated at insert); ``deliver`` sends what is due, marking a row ``sending`` in its
own commit before the SMTP conversation so a crash mid-send is recognised on the next run and
re-sent with the same Message-ID, flagged as a possible duplicate.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from flows.adapters.db.tables import OutboxRow, RoundRow
from flows.adapters.mail_compose import Outgoing, OutgoingAttachment, attachment_from_path_type, compose
from flows.adapters.ports import SendResult
from flows.adapters.raw_store import open_regular
from flows.bootstrap import App
from flows.core.errors import DraftUnavailableError
from flows.core.model import OutboxState
from flows.core.sending import next_attempt

DUE_STATES = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.TEMP_FAILED)


@dataclass(frozen=True)
class Queued:
    round_id: str
    purpose: str
    address: str
    dedupe_key: str
    template: str
    values: dict[str, str]
    party_id: int | None = None
    response_id: int | None = None
    template_party: str | None = None
    in_reply_to: str | None = None
    auto_submitted: str = "auto-generated"
    document: str | None = None  # a file of our data folder to attach (the final note)


@dataclass
class DeliveryReport:
    sent: int = 0
    temp_failed: int = 0
    perm_failed: int = 0
    possible_duplicates: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


def queue(session: Session, app: App, items: list[Queued]) -> int:
    """Insert outbox rows that do not exist yet; returns how many were new."""
    if not items:
        return 0
    rows = [
        {
            "round_id": item.round_id,
            "party_id": item.party_id,
            "response_id": item.response_id,
            "address": item.address,
            "purpose": item.purpose,
            "dedupe_key": item.dedupe_key,
            "message_id": make_msgid(idstring=item.purpose, domain=app.settings.mail_domain),
            "subject": "",
            "state": OutboxState.PENDING.value,
            "attempts": 0,
            "possible_duplicate": False,
            "created_at": app.now(),
            "payload": {
                "template": item.template,
                "values": item.values,
                "template_party": item.template_party,
                "in_reply_to": item.in_reply_to,
                "auto_submitted": item.auto_submitted,
                **({"document": item.document} if item.document else {}),
            },
        }
        for item in items
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement executed with many parameter sets: compiled once and cached, where a
    # multi-row VALUES would be compiled again for every batch size.
    table = cast(Table, OutboxRow.__table__)
    statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    return len(session.connection().execute(statement, rows).all())


def deliver(app: App, round_id: str, *, purposes: tuple[str, ...] | None = None) -> DeliveryReport:
    """Send every due row of the round; per-row outcome recorded; never raises for one row."""
    report = DeliveryReport()
    due = _due_ids(app, round_id, purposes)
    if not due:
        return report
    mailer = app.mailer()
    rng = random.Random()
    try:
        for row_id in due:
            message, address, was_sending = _claim(app, row_id)
            if message is None:
                continue
            result = mailer.send(message, address)
            _record(app, row_id, result, was_sending, rng, report)
    finally:
        mailer.close()
    return report


def _due_ids(app: App, round_id: str, purposes: tuple[str, ...] | None) -> list[int]:
    now = app.now()
    with app.db.transaction() as session:
        query = (
            select(OutboxRow.id)
            .where(OutboxRow.round_id == round_id, OutboxRow.state.in_([s.value for s in DUE_STATES]))
            .where(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
            .order_by(OutboxRow.id)
        )
        if purposes:
            query = query.where(OutboxRow.purpose.in_(purposes))
        return list(session.scalars(query))


def _claim(app: App, row_id: int) -> tuple[EmailMessage | None, str, bool]:
    """Mark the row ``sending`` and commit, then hand back the rendered message."""
    with app.db.transaction() as session:
        row = session.get(OutboxRow, row_id)
        if row is None or row.state not in {s.value for s in DUE_STATES}:
            return None, "", False
        was_sending = row.state == OutboxState.SENDING.value
        rnd = session.get(RoundRow, row.round_id)
        assert rnd is not None
        message = render_row(app, row, rnd)
        row.subject = str(message["Subject"])
        row.state = OutboxState.SENDING.value
        row.attempts += 1
        if was_sending:
            row.possible_duplicate = True
        return message, row.address, was_sending


def _record(
    app: App, row_id: int, result: SendResult, was_sending: bool, rng: random.Random, report: DeliveryReport
) -> None:
    with app.db.transaction() as session:
        row = session.get(OutboxRow, row_id)
        assert row is not None
        state, next_at, duplicate = next_attempt(
            result, row.attempts, max_attempts=app.settings.smtp_max_attempts, now=app.now(), rng=rng
        )
        row.state, row.next_attempt_at = str(state), next_at
        row.possible_duplicate = row.possible_duplicate or duplicate or was_sending
        row.last_code, row.last_text = result.code, (result.text or "")[:2000]
        row.location = result.location or row.location
        if state == OutboxState.SENT:
            row.sent_at = app.now()
            report.sent += 1
        elif state == OutboxState.PERM_FAILED:
            report.perm_failed += 1
            report.failures.append({"address": row.address, "code": result.code, "text": result.text})
        else:
            report.temp_failed += 1
        report.possible_duplicates += int(row.possible_duplicate)
        app.event(
            session, row.round_id, "send", str(state), outbox_id=row.id, purpose=row.purpose, code=result.code
        )


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


def render_row(app: App, row: OutboxRow, rnd: RoundRow) -> EmailMessage:
    payload = row.payload
    attachments: list[OutgoingAttachment] = []
    if row.purpose == "invitation":
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


def _template_attachment(rnd: RoundRow, party: str) -> OutgoingAttachment:
    from flows.adapters.response_template import build_template
    from flows.core.danish import deadline_text

    data = build_template(rnd.id, rnd.title, party, deadline_text(rnd.deadline))
    return OutgoingAttachment(
        f"hoeringsskema-{rnd.id}.xlsx",
        data,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def invitation_states(session: Session, round_id: str) -> dict[int, set[str]]:
    """The states of each party's invitation rows (one per address)."""
    states: dict[int, set[str]] = {}
    for party_id, state in session.execute(
        select(OutboxRow.party_id, OutboxRow.state).where(
            OutboxRow.round_id == round_id, OutboxRow.purpose == "invitation"
        )
    ):
        if party_id is not None:
            states.setdefault(party_id, set()).add(state)
    return states


def sent_at_by_party(session: Session, round_id: str) -> dict[int, datetime]:
    """When each party's first invitation went out."""
    rows = session.execute(
        select(OutboxRow.party_id, OutboxRow.sent_at).where(
            OutboxRow.round_id == round_id, OutboxRow.purpose == "invitation", OutboxRow.sent_at.is_not(None)
        )
    )
    first: dict[int, datetime] = {}
    for party_id, sent_at in rows:
        if (
            party_id is not None
            and sent_at is not None
            and (party_id not in first or sent_at < first[party_id])
        ):
            first[party_id] = sent_at
    return first
