"""The answer back: every counted respondent is mailed the final note, once, through the outbox.

The document is copied into the data folder first (named by its sha256), so the mail sent on a
retry next week carries the same bytes as the first one, whatever happened to the file given.
The outbox's unique key is the round and the address: a rerun, or a rerun with another
document, sends nothing to an address that already has its mail.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from flows.adapters.raw_store import open_regular
from flows.bootstrap import App
from flows.core.conclusion import Left, dedupe_key, recipients
from flows.core.errors import ConclusionDocumentError, InvitationsWaitingError, RoundNotClosedError
from flows.core.model import OutboxPurpose
from flows.core.outbox import OutboxItem
from flows.services.outbox import DeliveryReport, deliver, enqueue

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # what a municipal mail server takes as one attachment


@dataclass(frozen=True)
class Queuing:
    queued: int  # new outbox rows (0 on a rerun)
    recipients: int  # addresses the note goes to, this run or before
    unverified: int  # left out: the sender was unverified
    bounced: int  # left out: the invitation to that address or party bounced


@dataclass(frozen=True)
class ConclusionReport:
    queuing: Queuing
    delivery: DeliveryReport


def keep_document(app: App, round_id: str, document: Path) -> Path:
    """The final note copied under ``DATA_DIR/conclusions/ROUND_ID/SHA256/``; its path there."""
    try:
        fd, info = open_regular(document)
    except OSError as exc:
        raise ConclusionDocumentError(document.name) from exc
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(MAX_DOCUMENT_BYTES + 1)
    if not data or info.st_size > MAX_DOCUMENT_BYTES or len(data) > MAX_DOCUMENT_BYTES:
        raise ConclusionDocumentError(document.name)
    digest = hashlib.sha256(data).hexdigest()
    folder = app.settings.resolved_data_dir / "conclusions" / round_id / digest
    target = folder / document.name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{document.name}.part"
        partial.write_bytes(data)
        shutil.move(partial, target)
    return target


def queue_conclusion(app: App, round_id: str, document: Path) -> Queuing:
    """One outbox row per respondent address; a rerun adds only addresses that are new."""
    with app.uow() as uow:
        rnd = uow.rounds.get(round_id)
        if rnd.closed_at is None:
            raise RoundNotClosedError(round_id)
        kept = keep_document(app, round_id, document)
        chosen = recipients(uow.conclusion.counted_senders(round_id))
        items = [
            OutboxItem(
                round_id=rnd.id,
                purpose=OutboxPurpose.CONCLUSION,
                address=sender.address.strip(),
                dedupe_key=dedupe_key(rnd.id, sender.address),
                template="conclusion",
                values={
                    "round_id": rnd.id,
                    "title": rnd.title,
                    "administration": rnd.administration,
                    "party": sender.name,
                    "reply_to": rnd.reply_to,
                },
                party_id=sender.party_id,
                document=str(kept),
            )
            for sender in chosen.chosen
        ]
        count = enqueue(uow, app, items)
        report = Queuing(count, len(chosen.chosen), chosen.left[Left.UNVERIFIED], chosen.left[Left.BOUNCED])
        uow.events.add(
            round_id,
            "conclude",
            "queued",
            new=count,
            unverified=report.unverified,
            bounced=report.bounced,
        )
    return report


def deliver_conclusion(app: App, round_id: str) -> DeliveryReport:
    return deliver(app, round_id, purposes=(OutboxPurpose.CONCLUSION,))


def ensure_all_sent(app: App, round_id: str, sent: int) -> None:
    """As ``invite``: final notes the mail server did not take (yet) fail the run, in one line
    with how many wait and from when a rerun sends them. Counted in the outbox, not from this
    run's report, so a rerun before the backoff is over still says they wait."""
    with app.uow() as uow:
        waiting = uow.outbox.waiting(round_id, OutboxPurpose.CONCLUSION)
    if waiting.count:
        raise InvitationsWaitingError(
            waiting.count, sent, waiting.retry_at, unreached=waiting.unreached, command="conclude"
        )


def conclude(app: App, round_id: str, document: Path) -> ConclusionReport:
    queuing = queue_conclusion(app, round_id, document)
    return ConclusionReport(queuing, deliver_conclusion(app, round_id))
