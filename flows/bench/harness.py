"""``hoering bench``: every stage on a generated corpus, each beside its §4 floor in the same run.

Per stage: wall and CPU seconds, items/s, the process's peak RSS so far, and the efficiency
``floor seconds / pipeline seconds`` (performance.md §4: 1.0 is the floor, smaller is slower;
``times_floor`` is its inverse). Also: campaign grouping precision/recall against the truth, the
scaling exponent of each stage between a small and the full size, Prefect's share of the
end-to-end time, deadline-to-note time, and completeness (fetched = stored = processed, counted
as the truth says). Where a target is missed, the entry says by how much (``shortfall``); when
completeness fails ``run`` raises :class:`BenchIncompleteError` after printing the report.
"""

from __future__ import annotations

import email
import hashlib
import html
import json
import math
import os
import re
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from flows.bench import floors
from flows.bench.corpus import CorpusInfo, generate

CHUNK = 1000
WORD_FLOOR_CAP = 50_000  # Word's text ceiling is about 70k quotes (§2.5); beyond that the note groups
GROUPING_CAP = 200_000  # texts held in memory for the P/R check
_TAGS = re.compile(r"<[^>]+>")

# Targets of the issue. Rates are per second; "max_s" is wall seconds at the size it names.
TARGETS: dict[str, dict[str, float]] = {
    "ingest": {"min_rate": 1500.0},
    "round_prefect": {"max_s_per_million": 1800.0},
    "generate": {"min_rate": 5000.0},
}
EXPONENT_MAX = 1.15
PREFECT_SHARE_MAX = 0.05
GROUPING_MIN = 0.95
RSS_MAX_MB = 1024.0


@dataclass
class Stage:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    items: int = 0
    items_per_s: float = 0.0
    peak_rss_mb: float = 0.0
    floor_s: float | None = None
    efficiency: float | None = None  # floor_s / wall_s, <= 1 (performance.md §4)
    times_floor: float | None = None  # wall_s / floor_s
    target: str | None = None
    target_met: bool | None = None
    shortfall: str | None = None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def peak_rss_mb() -> float:
    # ru_maxrss is the process's high-water mark (KiB on Linux): a stage can only raise it.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(name: str, call: Callable[[], int], floor_s: float | None = None) -> Stage:
    """Run ``call`` (which returns its item count) and measure it; errors become the stage's entry."""
    stage = Stage(name)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        stage.items = call()
    except ImportError as exc:
        stage.error = f"stage not available yet: {exc}"
    except Exception as exc:  # a failing stage must not hide the others' figures
        stage.error = f"{type(exc).__name__}: {exc}"
    stage.wall_s = time.perf_counter() - wall
    stage.cpu_s = time.process_time() - cpu
    stage.peak_rss_mb = peak_rss_mb()
    finish(stage, floor_s)
    return stage


def finish(stage: Stage, floor_s: float | None) -> Stage:
    if stage.wall_s > 0 and stage.items:
        stage.items_per_s = stage.items / stage.wall_s
    if floor_s and stage.wall_s > 0 and stage.error is None:
        stage.floor_s = floor_s
        stage.efficiency = floor_s / stage.wall_s
        stage.times_floor = stage.wall_s / floor_s
    return stage


def check_rate(stage: Stage, minimum: float) -> None:
    stage.target = f">= {minimum:g} items/s"
    if stage.error or not stage.items:
        return
    stage.target_met = stage.items_per_s >= minimum
    if not stage.target_met:
        stage.shortfall = (
            f"{minimum - stage.items_per_s:.0f} items/s short ({stage.items_per_s / minimum:.0%})"
        )


def from_floor(result: floors.FloorResult) -> Stage:
    stage = Stage(f"floor:{result.name}", wall_s=result.seconds, cpu_s=result.seconds, items=result.items)
    stage.peak_rss_mb = peak_rss_mb()
    stage.detail["bytes"] = result.bytes
    return finish(stage, result.seconds)


# ------------------------------------------------------------------ corpus pass and floors


@dataclass
class CorpusFacts:
    """What the floors and the quality checks need from one pass over the corpus."""

    kinds: Counter[str] = field(default_factory=Counter)
    unique_sha256: int = 0
    expected_remarks: int = 0
    parsed: int = 0


def _chunks(corpus: CorpusInfo) -> Iterator[list[tuple[int, dict[str, Any], bytes]]]:
    chunk: list[tuple[int, dict[str, Any], bytes]] = []
    with corpus.truth.open(encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            truth = json.loads(line)
            chunk.append((index, truth, (corpus.maildir / truth["file"]).read_bytes()))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def body_text(message: Message) -> str:
    """The first text/plain part, else the first HTML part without tags: what a reader sees."""
    html_text = None
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.get_filename():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        if part.get_content_subtype() == "plain":
            return text
        if html_text is None and part.get_content_subtype() == "html":
            html_text = html.unescape(_TAGS.sub(" ", text))
    return html_text or ""


def _xlsx_parts(message: Message) -> list[bytes]:
    found = []
    for part in message.walk():
        name = part.get_filename() or ""
        if name.endswith(".xlsx") or "spreadsheetml" in part.get_content_type():
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                found.append(data)
    return found


def corpus_floors(corpus: CorpusInfo, database_url: str | None, work: Path) -> tuple[list[Stage], CorpusFacts]:
    """One streaming pass: the ingest floors on the same bytes, plus the facts the checks need.

    Raw store (read + write + fsync), MIME parse, template read, exact dedup and persist (raw
    executemany / COPY of one row per message). The log and note floors run later on the very
    cells and paragraphs the product writes.
    """
    raw = floors.RawStoreFloor(work / "floor-raw")
    parse = floors.FloorResult("mime_parse")
    template = floors.FloorResult("template_read")
    dedup = floors.FloorResult("exact_dedup")
    persist = floors.PersistFloor(database_url)
    facts = CorpusFacts()
    hashes: set[str] = set()
    for chunk in _chunks(corpus):
        raw.add([corpus.maildir / truth["file"] for _i, truth, _d in chunk])
        trees = floors.mime_parse_floor([data for _i, _t, data in chunk], parse)
        texts = [body_text(tree) for tree in trees]
        floors.template_read_floor([x for tree in trees for x in _xlsx_parts(tree)], template)
        floors.exact_dedup_floor([floors.normalise(t) for t in texts], dedup)
        persist.add(
            [
                _persist_row(truth, tree, text)
                for (_i, truth, _d), tree, text in zip(chunk, trees, texts, strict=True)
            ]
        )
        for _index, truth, _data in chunk:
            facts.parsed += 1
            facts.kinds[truth["kind"]] += 1
            facts.expected_remarks += int(truth["remarks"])
            hashes.add(truth["sha256"])
    facts.unique_sha256 = len(hashes)
    results = [raw.finish(), parse, template, dedup, persist.finish()]
    return [from_floor(r) for r in results], facts


def _persist_row(truth: Mapping[str, Any], tree: Message, text: str) -> tuple[Any, ...]:
    return (
        truth["sha256"],
        str(tree.get("From", "")),
        truth["received"],
        str(tree.get("Subject", "")),
        truth["kind"],
        text,
    )


# ------------------------------------------------------------------ quality


def pair_counts(labels: Mapping[int, str | None]) -> tuple[dict[str, int], int]:
    sizes = Counter(label for label in labels.values() if label is not None)
    return dict(sizes), sum(s * (s - 1) // 2 for s in sizes.values())


def grouping_scores(predicted: Mapping[int, str | None], truth: Mapping[int, str | None]) -> dict[str, float]:
    """Pairwise precision/recall of campaign grouping, via the contingency table (O(N), not O(N²)).

    Two messages are a pair when they share a label; a message without a label is alone.
    """
    _sizes, predicted_pairs = pair_counts(predicted)
    _sizes, truth_pairs = pair_counts(truth)
    cells = Counter(
        (predicted.get(i), label)
        for i, label in truth.items()
        if label is not None and predicted.get(i) is not None
    )
    together = sum(c * (c - 1) // 2 for c in cells.values())
    precision = together / predicted_pairs if predicted_pairs else 1.0
    recall = together / truth_pairs if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "pairs_truth": truth_pairs,
        "pairs_found": predicted_pairs,
    }


def scaling_exponent(n_small: int, t_small: float, n_large: int, t_large: float) -> float | None:
    """k in time ∝ n^k from two sizes; None when either time is too small to mean anything."""
    if n_small <= 0 or n_large <= n_small or t_small <= 1e-4 or t_large <= 1e-4:
        return None
    return math.log(t_large / t_small) / math.log(n_large / n_small)


def exponents(small: list[Stage], large: list[Stage], n_small: int, n_large: int) -> dict[str, float | None]:
    by_name = {s.name: s for s in small}
    found: dict[str, float | None] = {}
    for stage in large:
        other = by_name.get(stage.name)
        if other is None or stage.error or other.error:
            continue
        k = scaling_exponent(n_small, other.wall_s, n_large, stage.wall_s)
        found[stage.name] = k
        stage.detail["exponent"] = k
        if k is not None and k > EXPONENT_MAX:
            stage.shortfall = (
                stage.shortfall + "; " if stage.shortfall else ""
            ) + f"exponent {k:.2f} > {EXPONENT_MAX}"
            stage.target_met = False
    return found


