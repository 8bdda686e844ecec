"""Nothing lost: every message file fetched, stored, processed and (when it should be) counted.

Checked against the corpus's ``truth.jsonl``, keyed by the sha256 of each file's bytes, because
the raw store keeps one row per distinct byte string (a message delivered twice with the very
same bytes is one row) and which of two identical files is stored first is not defined.

Expectations, from the truth fields and the product's rules (its counting rule, as the SQL the status and the log count with):

* **fetched**: every message file;
* **stored**: one raw row per distinct sha256 in the truth;
* **processed**: every raw row ``processed`` (none quarantined or left over) with exactly one
  response item;
* **counted**: a stored byte string counts when its first truth line says ``kind == "response"``
  and names a ``party`` (a known party sent it). Re-sends (``kind == "duplicate"``), auto-replies,
  bounces and answers from senders outside the party list must not count; no corpus message
  fails DMARC/SPF and no staff decision exists yet, so those parts of the rule do not apply.

Remark counts are compared too, for information only (the template reader's fall-backs may
legitimately differ from the generator's guess).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import load_only

from flows.adapters.db.responses import counted_clause
from flows.adapters.db.tables import PartyRow, RawMessageRow, RemarkRow, ResponseRow
from flows.bootstrap import App

SHOW = 20  # files listed per kind of mismatch


@dataclass(frozen=True, slots=True)
class TruthLine:
    file: str
    kind: str
    party: str | None
    campaign: str | None
    remarks: int
    sha256: str


@dataclass
class Truth:
    """The truth lines, and per distinct byte string the line that stands for it.

    Kept small (slotted lines, interned labels, extra files only for re-sent bytes): at 1M
    messages it lives through the whole run and counts in the bench's peak memory.
    """

    lines: int = 0
    by_sha: dict[str, TruthLine] = field(default_factory=dict)
    extra_files: dict[str, list[str]] = field(default_factory=dict)
    kinds: Counter[str] = field(default_factory=Counter)

    def files(self, sha: str) -> list[str]:
        """Every corpus file holding these bytes."""
        return [self.by_sha[sha].file, *self.extra_files.get(sha, ())]

    @property
    def distinct(self) -> int:
        return len(self.by_sha)

    def expected_counted(self) -> set[str]:
        return {sha for sha, t in self.by_sha.items() if counts(t)}


def counts(truth: TruthLine) -> bool:
    """The product must count this message: a response from a known party, not a re-send."""
    return truth.kind == "response" and truth.party is not None


def read_truth(path: Path) -> Truth:
    found = Truth()
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            line = json.loads(raw)
            item = TruthLine(
                line["file"],
                sys.intern(line["kind"]),
                _interned(line.get("party")),
                _interned(line.get("campaign")),
                int(line.get("remarks") or 0),
                line["sha256"],
            )
            found.lines += 1
            found.kinds[item.kind] += 1
            # The first non-duplicate line of a byte string is what it is.
            current = found.by_sha.get(item.sha256)
            if current is None:
                found.by_sha[item.sha256] = item
            elif current.kind == "duplicate" and item.kind != "duplicate":
                found.by_sha[item.sha256] = item
                found.extra_files.setdefault(item.sha256, []).append(current.file)
            else:
                found.extra_files.setdefault(item.sha256, []).append(item.file)
    return found


def _interned(value: str | None) -> str | None:
    return None if value is None else sys.intern(value)


@dataclass
class Completeness:
    files: int = 0
    fetched: int = 0
    distinct: int = 0
    stored: int = 0
    processed: int = 0
    items: int = 0
    counted_expected: int = 0
    counted: int = 0
    problems: list[str] = field(default_factory=list)
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def mismatch(self, what: str, files: list[str]) -> None:
        if files:
            self.problems.append(f"{what}: {len(files)}")
            self.mismatches[what] = sorted(files)[:SHOW]


@dataclass
class _Stored:
    raw_id: int
    sha256: str
    source_name: str
    state: str


def check(app: App, truth: Truth, fetched: int) -> Completeness:
    """Compare the database after ingest with the truth; every difference is named by file."""
    result = Completeness(files=truth.lines, fetched=fetched, distinct=truth.distinct)
    with app.db.transaction() as session:
        stored = [
            _Stored(*row)
            for row in session.execute(
                select(RawMessageRow.id, RawMessageRow.sha256, RawMessageRow.source_name, RawMessageRow.state)
            )
        ]
        responses = list(
            session.scalars(
                select(ResponseRow).options(
                    load_only(
                        ResponseRow.id,
                        ResponseRow.raw_message_id,
                        ResponseRow.kind,
                        ResponseRow.party_id,
                        ResponseRow.no_remarks,
                    )
                )
            )
        )
        counted_ids = set(session.scalars(select(ResponseRow.id).where(counted_clause())))
        parties = {p.id: p.name for p in session.scalars(select(PartyRow))}
        remark_counts: dict[int, int] = {
            response_id: n
            for response_id, n in session.execute(
                select(RemarkRow.response_id, func.count()).group_by(RemarkRow.response_id)
            )
        }
        summary = [(r.raw_message_id, r.id, r.id in counted_ids, r.party_id, r.kind) for r in responses]
    result.stored = len(stored)
    result.items = len(summary)
    if fetched != truth.lines:
        result.problems.append(f"fetched {fetched} of {truth.lines} message files")

    by_raw = {s.raw_id: s for s in stored}
    stored_shas = {s.sha256 for s in stored}
    missing = [f for sha in truth.by_sha if sha not in stored_shas for f in truth.files(sha)]
    result.mismatch("not stored", missing)
    result.mismatch(
        "stored but not in the truth", [s.source_name for s in stored if s.sha256 not in truth.by_sha]
    )

    items_per_raw = Counter(raw_id for raw_id, *_ in summary)
    result.processed = sum(1 for s in stored if s.state == "processed")
    result.mismatch(
        "not processed", [f"{s.source_name} ({s.state})" for s in stored if s.state != "processed"]
    )
    result.mismatch(
        "not exactly one item",
        [
            f"{s.source_name} ({items_per_raw.get(s.raw_id, 0)} items)"
            for s in stored
            if items_per_raw.get(s.raw_id, 0) != 1
        ],
    )

    expected = truth.expected_counted() & stored_shas
    counted: dict[str, tuple[int, int | None]] = {}
    kinds: Counter[str] = Counter()
    for raw_id, response_id, is_in, party_id, kind in summary:
        kinds[kind] += 1
        raw = by_raw.get(raw_id) if raw_id is not None else None
        if is_in and raw is not None:
            counted[raw.sha256] = (response_id, party_id)
    result.counted_expected = len(truth.expected_counted())
    result.counted = len(counted)
    name = {sha: t.file for sha, t in truth.by_sha.items()}
    result.mismatch(
        "counted but should not be",
        [
            f"{name.get(sha, sha)} ({truth.by_sha[sha].kind if sha in truth.by_sha else '?'})"
            for sha in counted.keys() - expected
        ],
    )
    result.mismatch("should count but does not", [name[sha] for sha in expected - counted.keys()])
    wrong_party = [
        f"{name[sha]} ({parties.get(party_id or -1)} ≠ {truth.by_sha[sha].party})"
        for sha, (_rid, party_id) in counted.items()
        if sha in truth.by_sha and parties.get(party_id or -1) != truth.by_sha[sha].party
    ]
    result.mismatch("counted for the wrong party", wrong_party)
    _remark_info(result, truth, counted, remark_counts)
    result.info["kinds_found"] = dict(kinds)
    result.info["kinds_truth"] = dict(truth.kinds)
    return result


def _remark_info(
    result: Completeness,
    truth: Truth,
    counted: Mapping[str, tuple[int, int | None]],
    remark_counts: Mapping[int, int],
) -> None:
    expected = found = 0
    differ: list[str] = []
    for sha, (response_id, _party) in counted.items():
        line = truth.by_sha.get(sha)
        if line is None:
            continue
        n = remark_counts.get(response_id, 0)
        expected += line.remarks
        found += n
        if n != line.remarks:
            differ.append(f"{line.file} ({n} ≠ {line.remarks})")
    result.info["remarks"] = {
        "expected": expected,
        "found": found,
        "responses_differing": len(differ),
        "examples": sorted(differ)[:SHOW],
    }


def as_dict(result: Completeness) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "files": result.files,
        "fetched": result.fetched,
        "distinct_bytes": result.distinct,
        "stored": result.stored,
        "processed": result.processed,
        "items": result.items,
        "counted_expected": result.counted_expected,
        "counted": result.counted,
        "problems": result.problems,
        "mismatches": result.mismatches,
        **result.info,
    }
