"""In-memory RecordRepository (see flows.adapters.db.record and record_purge).

It holds no rows of its own: it reads (and, for the purge, blanks) what the other fakes of the
same unit of work hold, as the SQL joins the same tables. So a round ingested through the fake
responses, with events added through ``uow.events`` and messages sent through ``uow.outbox``,
is what trace, export and purge see.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

from flows.adapters.db.record import AttachmentFile, PurgePlan, RawLink, SentMessage, StoredFile
from flows.core.model import RawState
from flows.core.retention import RECORD_STEPS, RecordEvent, RoundRecord
from tests.support.fakes.events import FakeEvent, FakeEventRepository
from tests.support.fakes.outbox import FakeOutboxRepository
from tests.support.fakes.responses import FakeResponseRepository
from tests.support.fakes.rounds import FakeRoundRepository


class FakeRecordRepository:
    def __init__(
        self,
        responses: FakeResponseRepository,
        rounds: FakeRoundRepository,
        outbox: FakeOutboxRepository,
        events: FakeEventRepository,
    ) -> None:
        self._responses, self._rounds, self._outbox, self._events = responses, rounds, outbox, events
        self.erased: list[str] = []

    # the chain and the case file -----------------------------------------------------------

    def raw_links(self, round_id: str, numbers: Collection[int] | None = None) -> list[RawLink]:
        rows = [r for r in self._responses.rows.values() if r["round_id"] == round_id]
        rows.sort(key=lambda r: (r["received_at"], r["number"]))
        links = [self._link(r) for r in rows]
        return links if numbers is None else [x for x in links if x.number in set(numbers)]

    def counted_files(self, round_id: str) -> Iterator[StoredFile]:
        for r in self._responses._counted_rows(round_id):  # receipt order, as the SQL's
            raw = self._responses.raws.get(r.get("raw_message_id") or 0) or {}
            yield StoredFile(r["reference"], r["received_at"], raw.get("sha256"), raw.get("path"))

    def remark_of(self, round_id: str, number: str) -> tuple[int, str] | None:
        for remark in self._responses.remark_rows:
            if (remark["round_id"], remark["number"]) == (round_id, number):
                return int(self._responses.rows[remark["response_id"]]["number"]), str(remark["text"])
        return None

    def attachments_of(self, response_ids: Collection[int]) -> list[AttachmentFile]:
        wanted = set(response_ids)
        return [
            AttachmentFile(
                a["response_id"], a["display_name"], a["content_type"], a["path"], a["sha256"], a["status"]
            )
            for a in sorted(self._responses.attachments, key=lambda a: a["response_id"])
            if a["response_id"] in wanted
        ]

    def sent_messages(self, round_id: str) -> list[SentMessage]:
        rows = [
            r for r in self._outbox.rows.values() if r.item.round_id == round_id and r.sent_at is not None
        ]
        return [
            SentMessage(
                r.id,
                r.item.purpose.value,
                self._party_name(r.item.party_id),
                r.item.address,
                r.subject,
                r.message_id,
                r.sent_at,
                r.location,
            )
            for r in sorted(rows, key=lambda r: (r.sent_at, r.id))
            if r.sent_at is not None
        ]

    def latest_event(self, round_id: str, step: str, kind: str) -> tuple[datetime, dict[str, Any]] | None:
        found = self._of(round_id, step, kind)
        return (_at(found[-1]), dict(found[-1].detail)) if found else None

    def event_details(self, round_id: str, step: str, kind: str) -> list[dict[str, Any]]:
        return [dict(e.detail) for e in self._of(round_id, step, kind)]

    # the purge ------------------------------------------------------------------------------

    def round_records(self, round_id: str | None = None) -> list[RoundRecord]:
        records = []
        for rnd in self._rounds.all():
            if round_id is not None and rnd.id != round_id:
                continue
            mine = [e for e in self._events.added if e.round_id == rnd.id and e.at is not None]
            changes = [self._rounds.updated_at.get(rnd.id), rnd.closed_at]
            changes += [e.at for e in mine if e.step not in RECORD_STEPS]
            records.append(
                RoundRecord(
                    round_id=rnd.id,
                    closed_at=rnd.closed_at,
                    retention=rnd.retention,
                    last_change=max(c for c in changes if c is not None),
                    last_export=max((_at(e) for e in mine if e.kind == RecordEvent.EXPORTED), default=None),
                    purged_at=max((_at(e) for e in mine if e.kind == RecordEvent.PURGED), default=None),
                )
            )
        return records

    def purge_plan(self, round_id: str) -> PurgePlan:
        rows = [r for r in self._responses.rows.values() if r["round_id"] == round_id]
        ids = {r["id"] for r in rows}
        raw_ids = {r["raw_message_id"] for r in rows if r.get("raw_message_id") is not None}
        shared_raw = {r["raw_message_id"] for r in self._responses.rows.values() if r["round_id"] != round_id}
        raws = [
            raw
            for raw in self._responses.raws.values()
            if (raw.get("round_id") == round_id or raw["id"] in raw_ids) and raw["state"] != RawState.PURGED
        ]
        attachments = [a for a in self._responses.attachments if a["response_id"] in ids and a["path"]]
        other_paths = {a["path"] for a in self._responses.attachments if a["response_id"] not in ids}
        outbox = [
            r.location for r in self._outbox.rows.values() if r.item.round_id == round_id and r.location
        ]
        counts = {
            "raw_messages": len(raws),
            "raw_bytes": sum(int(raw.get("size") or 0) for raw in raws),
            "attachments": len(attachments),
            "attachment_bytes": sum(int(a.get("size") or 0) for a in attachments),
            "sent_files": len(outbox),
            "responses": len(rows),
            "private_persons": sum(
                1 for s in self._rounds.parties.values() if s.party.round_id == round_id and s.party.person
            ),
        }
        return PurgePlan(
            raw_files=sorted({raw["path"] for raw in raws if raw["path"] and raw["id"] not in shared_raw}),
            attachment_files=sorted({a["path"] for a in attachments if a["path"] not in other_paths}),
            outbox_files=sorted({p for p in outbox if p}),
            counts=counts,
        )

    def erase_round(self, round_id: str) -> None:
        self.erased.append(round_id)
        rows = [r for r in self._responses.rows.values() if r["round_id"] == round_id]
        for row in rows:
            row.update(text="", full_text="", sender="", subject="", message_id=None)
            raw = self._responses.raws.get(row.get("raw_message_id") or 0)
            if raw is not None:
                raw.update(path="", state=RawState.PURGED.value)
        ids = {r["id"] for r in rows}
        for attachment in self._responses.attachments:
            if attachment["response_id"] in ids:
                attachment.update(path=None, text="", display_name="")
        for remark in self._responses.remark_rows:
            if remark["round_id"] == round_id:
                remark.update(text="", proposal="")
        for sent in self._outbox.rows.values():
            if sent.item.round_id == round_id:
                sent.location = None

    # ----------------------------------------------------------------------------------------

    def _of(self, round_id: str, step: str, kind: str) -> list[FakeEvent]:
        return [e for e in self._events.added if (e.round_id, e.step, e.kind) == (round_id, step, kind)]

    def _party_name(self, party_id: int | None) -> str | None:
        if party_id is None:
            return None
        stored = self._rounds.parties.get(party_id)
        return stored.party.name if stored else None

    def _link(self, r: dict[str, Any]) -> RawLink:
        raw = self._responses.raws.get(r.get("raw_message_id") or 0) or {}
        return RawLink(
            response_id=r["id"],
            number=r["number"],
            reference=r["reference"],
            kind=str(r["kind"]),
            channel=str(r["channel"]),
            party=self._party_name(r.get("party_id")),
            matched_by=r.get("matched_by"),
            sender=r.get("sender", ""),
            subject=r.get("subject", ""),
            received_at=r["received_at"],
            late=bool(r.get("late")),
            text=str(r.get("text", "")),
            full_text=str(r.get("full_text", "")),
            raw_id=raw.get("id"),
            path=raw.get("path"),
            sha256=raw.get("sha256"),
            size=raw.get("size"),
            source=raw.get("source"),
            source_name=raw.get("source_name"),
            mailbox=raw.get("mailbox"),
            uidvalidity=raw.get("uidvalidity"),
            uid=raw.get("uid"),
            received_from=raw.get("received_from"),
        )


def _at(event: FakeEvent) -> datetime:
    if event.at is None:
        msg = f"a fake event of step {event.step!r} needs recorded_at to be read back"
        raise ValueError(msg)
    return event.at
