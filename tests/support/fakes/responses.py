"""In-memory ResponseRepository (see flows.adapters.db.responses): rows kept as dicts by id.

The rule questions are answered with the core's own definitions (``is_counted``,
``REVIEW_KINDS``), so what a service sees here is what the SQL gives for the same rows
(``tests/integration/test_counting_rule.py`` checks the SQL side against the same rule).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flows.adapters.db.raw_messages import QuarantinedRaw, StoredRaw
from flows.adapters.db.response_stream import ReceiptRemark
from flows.adapters.db.responses import Counted, PartyCount, RemarkRecord, Review, ReviewItem
from flows.adapters.ports import Cursor
from flows.core.counting import is_counted
from flows.core.model import Decision, Kind, RawState
from flows.core.review import REVIEW_KINDS


class FakeResponseRepository:
    def __init__(self) -> None:
        self.next_number: dict[str, int] = {}
        self.raws: dict[int, dict[str, Any]] = {}
        self.cursors: dict[str, Cursor] = {}
        self.rows: dict[int, dict[str, Any]] = {}
        self.attachments: list[dict[str, Any]] = []
        self.remark_rows: list[dict[str, Any]] = []
        self.locked: list[list[str]] = []

    # raw messages -------------------------------------------------------------------------

    def cursor(self, mailbox: str) -> Cursor | None:
        return self.cursors.get(mailbox)

    def insert_raw(self, rows: list[dict[str, Any]]) -> list[int]:
        inserted: list[int] = []
        for row in rows:
            uid = (row.get("mailbox"), row.get("uidvalidity"), row.get("uid"))
            if any(
                r["sha256"] == row["sha256"]
                or (uid[0] is not None and (r.get("mailbox"), r.get("uidvalidity"), r.get("uid")) == uid)
                for r in self.raws.values()
            ):
                continue
            raw_id = len(self.raws) + 1
            self.raws[raw_id] = {"round_id": None, "message_id": None, "error": None} | row | {"id": raw_id}
            inserted.append(raw_id)
        return inserted

    def save_cursor(self, cursor: Cursor, now: datetime) -> None:
        old = self.cursors.get(cursor.mailbox)
        if old is None or old.uidvalidity != cursor.uidvalidity or cursor.last_uid > old.last_uid:
            self.cursors[cursor.mailbox] = cursor

    def pending_raw_ids(self, max_attempts: int, limit: int | None = None) -> list[int]:
        waiting = [
            r for r in self.raws.values() if r["state"] == RawState.STORED and r["attempts"] < max_attempts
        ]
        ids = [r["id"] for r in sorted(waiting, key=lambda r: (r["received_at"], r["id"]))]
        return ids[:limit] if limit else ids

    def stored(self, raw_ids: list[int]) -> list[StoredRaw]:
        rows = [self.raws[i] for i in raw_ids if i in self.raws and self.raws[i]["state"] == RawState.STORED]
        return [
            StoredRaw(
                r["id"],
                r["path"],
                r["source"],
                r["source_name"],
                r["received_at"],
                r["size"],
                r["received_from"],
                r["collected_at"],
            )
            for r in sorted(rows, key=lambda r: (r["received_at"], r["id"]))
        ]

    def count_failure(self, raw_id: int, error: str) -> int | None:
        raw = self.raws.get(raw_id)
        if raw is None or raw["state"] != RawState.STORED:
            return None
        raw["attempts"] += 1
        raw["error"] = error
        return int(raw["attempts"])

    def quarantine(self, raw_id: int) -> None:
        self.raws[raw_id]["state"] = RawState.QUARANTINED.value

    def mark_processed(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.raws[row["id"]].update(row, state=RawState.PROCESSED.value)

    def quarantined(self) -> list[QuarantinedRaw]:
        return [
            QuarantinedRaw(r["id"], r["round_id"], r["received_at"], r["source_name"], r["error"])
            for r in self.raws.values()
            if r["state"] == RawState.QUARANTINED
        ]

    def quarantined_count(self, round_id: str) -> int:
        return sum(1 for q in self.quarantined() if q.round_id in (None, round_id))

    # responses -----------------------------------------------------------------------------

    def earlier(self, message_ids: set[str]) -> list[tuple[str, str, int, str]]:
        found = [
            r for r in self.rows.values() if r["message_id"] in message_ids and r["kind"] == Kind.RESPONSE
        ]
        found.sort(key=lambda r: r["number"], reverse=True)
        return [(r["round_id"], r["message_id"], r["id"], r["full_text"]) for r in found]

    def lock_rounds(self, round_ids: set[str]) -> None:
        self.locked.append(sorted(round_ids))

    def take_numbers(self, round_id: str, count: int) -> int:
        start = self.next_number.get(round_id, 1)
        self.next_number[round_id] = start + count
        return start

    def insert_responses(self, rows: list[dict[str, Any]]) -> list[int]:
        ids = []
        for row in rows:
            if any(
                (r["round_id"], r["number"]) == (row["round_id"], row["number"])
                or (r["round_id"], r["raw_message_id"]) == (row["round_id"], row["raw_message_id"])
                for r in self.rows.values()
            ):
                msg = "unique constraint failed on responses"
                raise ValueError(msg)
            response_id = len(self.rows) + 1
            self.rows[response_id] = dict(row, id=response_id)
            ids.append(response_id)
        return ids

    def link_duplicates(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self.rows[row["id"]]["duplicate_of"] = row["duplicate_of"]

    def insert_attachments(self, rows: list[dict[str, Any]]) -> None:
        self.attachments.extend(rows)

    def insert_remarks(self, rows: list[dict[str, Any]]) -> None:
        self.remark_rows.extend(rows)

    def remark_numbers(self, round_id: str) -> set[str]:
        return {r["number"] for r in self.remark_rows if r["round_id"] == round_id}

    def _in_order(self, round_id: str) -> list[dict[str, Any]]:
        mine = [r for r in self.rows.values() if r["round_id"] == round_id]
        return sorted(mine, key=lambda r: (r["received_at"], r["number"]))

    def review_rows(self, round_id: str) -> list[Review]:
        return [
            Review(*(r[name] for name in Review._fields))
            for r in self._in_order(round_id)
            if r["review_reason"] is not None and r["kind"] in REVIEW_KINDS
        ]

    def review_item(self, round_id: str, reference: str) -> ReviewItem | None:
        for r in self.rows.values():
            if (r["round_id"], r["reference"]) == (round_id, reference):
                return ReviewItem(r["id"], r["kind"], r["number"], r["text"])
        return None

    def decide(self, response_id: int, decision: Decision, kind: str, party_id: int | None) -> None:
        row = self.rows[response_id]
        row["decision"], row["kind"] = decision.value, kind
        if party_id is not None:
            row["party_id"] = party_id

    def ensure_remark(self, item: ReviewItem, round_id: str) -> None:
        if any(r["response_id"] == item.id for r in self.remark_rows) or not item.text.strip():
            return
        self.remark_rows.append(
            {
                "round_id": round_id,
                "response_id": item.id,
                "number": f"{item.number}.1",
                "position": 1,
                "section": "",
                "text": item.text,
                "proposal": "",
            }
        )

    def _counted_rows(self, round_id: str) -> list[dict[str, Any]]:
        return [r for r in self._in_order(round_id) if is_counted(SimpleNamespace(**r))]

    def counted(self, round_id: str, *, whole: bool = True) -> Iterator[Counted]:
        def one(r: dict[str, Any]) -> Counted:
            return Counted(
                *(
                    r.get(name, "") if whole else "" if name == "full_text" else r[name]
                    for name in Counted._fields
                )
            )

        return (one(r) for r in self._counted_rows(round_id))

    def attachment_names(self, response_ids: list[int]) -> dict[int, list[str]]:
        names: dict[int, list[str]] = {}
        for a in self.attachments:
            if a["response_id"] in response_ids and a["status"] != "inline":
                names.setdefault(a["response_id"], []).append(a["display_name"])
        return names

    def remarks(self, round_id: str) -> Iterator[RemarkRecord]:
        return (
            RemarkRecord(r["response_id"], r["number"], r["section"], r["text"], r["proposal"])
            for r in self.remark_rows
            if r["round_id"] == round_id
        )

    def counted_remarks(self, round_id: str) -> Iterator[ReceiptRemark]:
        order = {r["id"]: i for i, r in enumerate(self._counted_rows(round_id))}
        mine = [r for r in self.remark_rows if r["round_id"] == round_id and r["response_id"] in order]
        mine.sort(key=lambda r: (order[r["response_id"]], r.get("position", 0)))
        for r in mine:
            response = self.rows[r["response_id"]]
            yield ReceiptRemark(
                r["response_id"],
                response["received_at"],
                response["number"],
                r["number"],
                r["section"],
                r["text"],
                r["proposal"],
            )

    def counted_by_party(self, round_id: str) -> list[PartyCount]:
        groups: dict[tuple[int | None, bool], list[int]] = {}
        for r in self._counted_rows(round_id):
            tally = groups.setdefault((r["party_id"], bool(r["late"])), [0, 0])
            tally[0] += 1
            tally[1] += 0 if r["no_remarks"] else 1
        return [PartyCount(p, late, n, w) for (p, late), (n, w) in groups.items()]

    def kind_counts(self, round_id: str) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for r in self.rows.values():
            if r["round_id"] == round_id:
                kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        return kinds

    def review_count(self, round_id: str) -> int:
        return len(self.review_rows(round_id))
