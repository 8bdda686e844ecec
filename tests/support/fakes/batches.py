"""An in-memory ``BatchRepository``: it reads the raw messages and responses the fake holds."""

from __future__ import annotations

from collections import Counter

from flows.adapters.db.batches import BatchOutcome
from flows.core.model import RawState
from tests.support.fakes.responses import FakeResponseRepository


class FakeBatchRepository:
    def __init__(self, responses: FakeResponseRepository) -> None:
        self._responses = responses

    def waiting_files(self, raw_ids: list[int]) -> list[tuple[int, str]]:
        raws = self._responses.raws
        return [
            (i, str(raws[i]["path"]))
            for i in sorted(raw_ids)
            if raws.get(i, {}).get("state") == RawState.STORED
        ]

    def outcome(self, raw_ids: list[int]) -> BatchOutcome:
        wanted = set(raw_ids)
        raws = [r for i, r in sorted(self._responses.raws.items()) if i in wanted]
        states = Counter(RawState(r["state"]) for r in raws)
        kinds = Counter(
            str(r["kind"]) for r in self._responses.rows.values() if r.get("raw_message_id") in wanted
        )
        return BatchOutcome(
            processed=states[RawState.PROCESSED],
            quarantined=states[RawState.QUARANTINED],
            stored=states[RawState.STORED],
            by_kind=dict(kinds),
            problems=[
                f"besked {r['id']}: {r['error']}"
                for r in raws
                if r.get("error") is not None and r["state"] != RawState.PROCESSED
            ],
        )

    def stored_maildir_names(self) -> set[str]:
        return {str(r["source_name"]) for r in self._responses.raws.values() if r.get("source") == "maildir"}
