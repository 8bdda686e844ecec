"""``python -m bench``: every stage on a generated corpus, each beside its §4 floor in the same run.

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
import html
import json
import math
import os
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from bench import completeness as completeness_mod
from bench import floors
from bench import stages as stages_mod
from bench.corpus import CorpusInfo, generate
from flows.core.errors import HoeringError
from flows.settings import redact_url
from tests.support.databases import fresh_database

CHUNK = 1000
_TAGS = re.compile(r"<[^>]+>")

# Targets of issue 16. Rates are per second; "max_s" is wall seconds at the size it names.
TARGETS: dict[str, dict[str, float]] = {
    "ingest": {"min_rate": 1000.0},
    "round_prefect": {"max_s_per_million": 1800.0},  # PostgreSQL; SQLite: "round_sqlite"
    "round_sqlite": {"max_s_per_million": 1500.0},
    "generate": {"min_rate": 5000.0},
}
EXPONENT_MAX = 1.15
PREFECT_SHARE_MAX = 0.05
GROUPING_MIN = 0.95
RSS_MAX_MB = 1024.0
MUNICIPAL_MAX_S = 60.0
ROUND_PARTS = ("ingest", "assembly_read", "excel_log", "word_note")  # the "whole round"
PREFECT_MAX = 20_000  # the whole round under Prefect runs at the largest size not above this


@dataclass
class Stage:
    name: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    items: int = 0
    items_per_s: float = 0.0
    peak_rss_mb: float = 0.0  # the bench process's high-water mark so far (bench data included)
    stage_rss_mb: float | None = None  # peak resident memory while this stage ran
    start_rss_mb: float | None = None  # resident memory when it started (what the bench holds)
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


def _proc_status_mb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM), so a stage's own peak can be read (Linux ≥ 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def timed(name: str, call: Callable[[], int], floor_s: float | None = None) -> Stage:
    """Run ``call`` (which returns its item count) and measure it; errors become the stage's entry.

    Besides the process's all-time peak, each stage records the resident memory at its start and
    its own peak (parse worker processes are not included: they are separate processes).
    """
    stage = Stage(name)
    stage.start_rss_mb = _proc_status_mb("VmRSS")
    can_reset = peak_rss_mb() > 0 and _reset_peak()
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
    stage.stage_rss_mb = _proc_status_mb("VmHWM") if can_reset else None
    finish(stage, floor_s)
    _progress(stage)
    return stage


def _progress(stage: Stage) -> None:
    """One line per finished stage on stderr, so a long run can be followed (and read if cut off)."""
    print(
        f"[bench] {stage.name}: {stage.wall_s:.1f} s wall, {stage.cpu_s:.1f} s cpu, {stage.items} items,"
        f" {stage.items_per_s:.0f}/s, peak {stage.stage_rss_mb or stage.peak_rss_mb:.0f} MB"
        + (f", {stage.error}" if stage.error else ""),
        file=sys.stderr,
        flush=True,
    )


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
    finish(stage, result.seconds)
    _progress(stage)
    return stage


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


def corpus_floors(
    corpus: CorpusInfo, database_url: str | None, work: Path
) -> tuple[list[Stage], CorpusFacts]:
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


# ------------------------------------------------------------------ pipeline stages (the product's services)


class BenchIncompleteError(HoeringError):
    """The benchmark lost or miscounted messages against the ground truth (the CI check)."""


@dataclass
class SizeRun:
    n: int
    stages: list[Stage]
    facts: CorpusFacts
    completeness: dict[str, Any] = field(default_factory=dict)
    grouping: dict[str, Any] = field(default_factory=dict)
    prefect: dict[str, Any] | None = None


def _floor(stages: list[Stage], *names: str) -> float | None:
    found = {s.name.removeprefix("floor:"): s.wall_s for s in stages if s.name.startswith("floor:")}
    return sum(found.get(n, 0.0) for n in names) or None


def _ingest_stages(product: stages_mod.Product, result: stages_mod.IngestResult) -> list[Stage]:
    ingest = timed("ingest", lambda: stages_mod.ingest(product, result, time.perf_counter))
    ingest.detail.update(
        processed=result.processed,
        stored=result.stored,
        quarantined=result.quarantined,
        by_kind=result.by_kind,
        problems=result.problems[:10],
        batch=product.settings(stages_mod.COLLECT_NOW).ingest_batch,
    )
    fetch = Stage("ingest:fetch", wall_s=result.fetch_s, cpu_s=result.fetch_cpu_s, items=result.fetched)
    fetch.peak_rss_mb, fetch.stage_rss_mb = ingest.peak_rss_mb, ingest.stage_rss_mb
    process = Stage(
        "ingest:process",
        wall_s=result.process_s,  # fetching overlaps it (services.overlap)
        cpu_s=ingest.cpu_s - result.fetch_cpu_s,
        items=result.processed,
    )
    process.peak_rss_mb, process.stage_rss_mb = ingest.peak_rss_mb, ingest.stage_rss_mb
    return [ingest, fetch, process]


def _grouping_stage(product: stages_mod.Product, truth: completeness_mod.Truth, out: dict[str, Any]) -> Stage:
    """group_campaigns over the texts the product groups (counted, with remarks), P/R vs the truth."""
    from flows.adapters.text_spill import TextsById
    from flows.core.campaigns import group_campaigns

    texts = stages_mod.counted_texts(product)
    predicted: dict[int, str | None] = {}

    def call() -> int:
        predicted.update(group_campaigns(TextsById({rid: text for rid, (text, _sha) in texts.items()})))
        return len(texts)

    stage = timed("campaign_grouping", call)
    labels = {
        rid: (truth.by_sha[sha].campaign if sha in truth.by_sha else None) for rid, (_t, sha) in texts.items()
    }
    out.update(grouping_scores(predicted, labels), texts=len(texts))
    stage.detail.update(out)
    stage.target = f"precision and recall >= {GROUPING_MIN}"
    if stage.error is None:
        stage.target_met = out["precision"] >= GROUPING_MIN and out["recall"] >= GROUPING_MIN
        if not stage.target_met:
            stage.shortfall = (
                f"precision {out['precision']:.3f}, recall {out['recall']:.3f} (target {GROUPING_MIN}: "
                f"short by {max(0.0, GROUPING_MIN - out['precision']):.3f} / "
                f"{max(0.0, GROUPING_MIN - out['recall']):.3f})"
            )
    return stage


def _output_stages(product: stages_mod.Product, work: Path) -> list[Stage]:
    """Assembly read (includes the product's own grouping), then the log and the note, each with its floor."""
    holder: dict[str, Any] = {}

    def read() -> int:
        holder["assembly"] = stages_mod.build_assembly(product)
        a = holder["assembly"]
        return len(a.responses) + len(a.remarks)

    found = [timed("assembly_read", read)]
    assembly = holder.get("assembly")
    if assembly is None:
        return found
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    # the floors' inputs (every cell, every paragraph) are built in a child process: they must
    # not count in the product's peak memory measured here
    log_floor = from_floor(stages_mod.floor_in_child(product, "log", out / "floor-log.xlsx"))

    def log() -> int:
        stages_mod.write_log(assembly, out / "hoeringslog.xlsx")
        return log_floor.items

    log_stage = timed("excel_log", log)
    finish(log_stage, log_floor.wall_s)
    note_floor = from_floor(stages_mod.floor_in_child(product, "note", out / "floor-note.docx"))
    problems: list[str] = []

    def note() -> int:
        problems.extend(stages_mod.write_note(product, assembly, out / "hoeringsnotat.docx"))
        return note_floor.items

    note_stage = timed("word_note", note)
    note_stage.detail["quality_problems"] = problems[:5]
    finish(note_stage, note_floor.wall_s)
    return [*found, log_floor, log_stage, note_floor, note_stage]


def _template_stage(corpus: CorpusInfo) -> Stage:
    """``read_template`` on every workbook of the corpus.

    Only the reading is timed: finding the workbooks in the mail means reading and parsing every
    message (the ingest's work, 175 s at 1M), which the floor does not count either. The whole
    pass is kept in the detail.
    """
    from flows.adapters.response_template import read_template

    spent = [0.0, 0.0]

    def call() -> int:
        count = 0
        for chunk in _chunks(corpus):
            books = [x for _i, _t, data in chunk for x in _xlsx_parts(email.message_from_bytes(data))]
            wall, cpu = time.perf_counter(), time.process_time()
            for workbook in books:
                read_template(workbook)
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu
            count += len(books)
        return count

    stage = timed("template_extraction", call)
    stage.detail["pass_wall_s"] = stage.wall_s
    if stage.error is None:
        stage.wall_s, stage.cpu_s = spent
        finish(stage, None)
    return stage


def pipeline_stages(corpus: CorpusInfo, database_url: str | None, work: Path, run: SizeRun) -> list[Stage]:
    """The product's stages on a fresh data dir and database, and the completeness check after ingest."""
    truth = completeness_mod.read_truth(corpus.truth)
    found: list[Stage] = []
    with fresh_database(database_url) as url:
        product = stages_mod.Product(corpus, work / "data", url)
        try:
            found.append(timed("open", lambda: stages_mod.open_round(product)))
            invite_detail: dict[str, Any] = {}
            invite = timed("invite", lambda: stages_mod.invite(product, invite_detail))
            invite.detail.update(invite_detail)
            found.append(invite)
            result = stages_mod.IngestResult()
            found += _ingest_stages(product, result)
            checked = completeness_mod.check(product.app(stages_mod.COLLECT_NOW), truth, result.fetched)
            if found[-3].error:
                checked.problems.insert(0, f"ingest failed: {found[-3].error}")
            run.completeness = completeness_mod.as_dict(checked)
            found.append(_template_stage(corpus))
            found.append(_grouping_stage(product, truth, run.grouping))
            found += _output_stages(product, work)
        finally:
            product.close()
    return found


def _attach_floors(stages: list[Stage]) -> None:
    """Each pipeline stage against the sum of the floors it stands for (same bytes, same run)."""
    parts = {
        "ingest": ("raw_store", "mime_parse", "template_read", "exact_dedup", "persist"),
        "ingest:fetch": ("raw_store",),
        "ingest:process": ("mime_parse", "template_read", "exact_dedup", "persist"),
        "template_extraction": ("template_read",),
    }
    for stage in stages:
        names = parts.get(stage.name)
        if names and not stage.error:
            finish(stage, _floor(stages, *names))
        if stage.name == "ingest":
            check_rate(stage, TARGETS["ingest"]["min_rate"])


def _round_stage(stages: list[Stage], n: int) -> Stage:
    """The issue's "whole round" (ingest, grouping, log, note): grouping runs inside assembly_read."""
    parts = [s for s in stages if s.name in ROUND_PARTS]
    stage = Stage("round", items=n)
    stage.wall_s = sum(s.wall_s for s in parts)
    stage.cpu_s = sum(s.cpu_s for s in parts)
    stage.peak_rss_mb = max((s.peak_rss_mb for s in parts), default=0.0)
    stage.stage_rss_mb = max((s.stage_rss_mb or 0.0 for s in parts), default=0.0) or None
    stage.detail["rss_added_mb"] = {
        s.name: round(s.stage_rss_mb - s.start_rss_mb, 1)
        for s in parts
        if s.stage_rss_mb is not None and s.start_rss_mb is not None
    }
    errors = [f"{s.name}: {s.error}" for s in parts if s.error]
    stage.error = "; ".join(errors) or None
    floor_names = (
        "raw_store",
        "mime_parse",
        "template_read",
        "exact_dedup",
        "persist",
        "excel_log",
        "word_note",
    )
    finish(stage, _floor(stages, *floor_names))
    stage.detail["parts"] = list(ROUND_PARTS)
    return stage


def run_size(
    n: int,
    database_url: str | None,
    work: Path,
    *,
    seed: int = 1,
    pipeline: bool = True,
    prefect: bool = False,
) -> SizeRun:
    corpus_dir = work / f"corpus-{n}"
    stage = Stage("generate")
    cpu = time.process_time()
    corpus = generate(n, corpus_dir, seed=seed)
    stage.wall_s, stage.cpu_s, stage.items = corpus.seconds, time.process_time() - cpu, n
    stage.peak_rss_mb = peak_rss_mb()
    stage.detail.update(bytes=corpus.files_bytes, kinds=corpus.kinds)
    finish(stage, None)
    os.sync()  # the generator's dirty pages must not be flushed on the raw-store floor's clock
    floor_stages, facts = corpus_floors(corpus, database_url, work)
    run = SizeRun(n, [stage, *floor_stages], facts)
    if pipeline:
        run.stages += pipeline_stages(corpus, database_url, work, run)
        _attach_floors(run.stages)
        run.stages.append(_round_stage(run.stages, n))
    if prefect:
        run.prefect = whole_round(corpus, database_url, work)
        run.stages.append(_prefect_stage(run.prefect, n))
    return run


def whole_round(corpus: CorpusInfo, database_url: str | None, work: Path) -> dict[str, Any]:
    """Plain services, then the Prefect flows, over the same corpus (each on a fresh dir and db)."""
    from bench import prefect_round

    plain = prefect_round.plain_chain(corpus, work / "round-plain", database_url, prefect_round.STEPS)
    flows_chain = prefect_round.prefect_chain(
        corpus, work / "round-prefect", database_url, prefect_round.STEPS
    )
    batches = math.ceil(corpus.messages / _ingest_batch())
    return {"n": corpus.messages, **prefect_round.compare(plain, flows_chain, batches)}


def _ingest_batch() -> int:
    from flows.settings import Settings

    return Settings().ingest_batch


def _prefect_stage(result: Mapping[str, Any], n: int) -> Stage:
    stage = Stage("round_prefect", wall_s=float(result["prefect_total_s"]), items=n)
    stage.peak_rss_mb = peak_rss_mb()
    finish(stage, float(result["plain_total_s"]))
    stage.detail.update(result)
    share = result["prefect_share"]
    stage.target = f"Prefect share < {PREFECT_SHARE_MAX:.0%}"
    if share is not None:
        stage.target_met = share < PREFECT_SHARE_MAX
        if not stage.target_met:
            stage.shortfall = f"share {share:.1%}, {share - PREFECT_SHARE_MAX:.1%} over"
    return stage


def municipal_round(
    database_url: str | None, work: Path, *, responses: int = 200, seed: int = 1
) -> dict[str, Any]:
    """A 50-party round whose mail all arrives at the close run: deadline run start → note finished."""
    from bench import prefect_round

    corpus = generate(responses, work / "municipal-corpus", seed=seed, parties=50)
    steps = ("open", "invite", "close", "assemble")
    chain = prefect_round.prefect_chain(corpus, work / "municipal", database_url, steps)
    value = chain.deadline_to_note_s
    return {
        "parties": 50,
        "responses": responses,
        "close_s": chain.steps.get("close"),
        "assemble_s": chain.steps.get("assemble"),
        "deadline_to_note_s": value,
        "target_s": MUNICIPAL_MAX_S,
        "target_met": value <= MUNICIPAL_MAX_S,
        "shortfall": None if value <= MUNICIPAL_MAX_S else f"{value - MUNICIPAL_MAX_S:.1f} s over",
    }


# ------------------------------------------------------------------ run


def _projection(round_stage: Stage | None, exponent: float | None) -> float | None:
    """Seconds for 1M responses from the measured round, scaled by its exponent (1.0 if unknown)."""
    if round_stage is None or round_stage.error or not round_stage.items:
        return None
    k = max(1.0, exponent) if exponent is not None else 1.0
    return float(round_stage.wall_s * (1_000_000 / round_stage.items) ** k)


def _target(name: str, goal: str, value: Any, met: bool | None, shortfall: str | None) -> dict[str, Any]:
    return {"name": name, "target": goal, "value": value, "met": met, "shortfall": None if met else shortfall}


def targets(report: Mapping[str, Any], high: SizeRun) -> list[dict[str, Any]]:
    by_name = {s.name: s for s in high.stages}
    found: list[dict[str, Any]] = []
    ingest = by_name.get("ingest")
    if ingest is not None and not ingest.error:
        rate = ingest.items_per_s
        found.append(
            _target(
                "ingest_rate",
                f">= {TARGETS['ingest']['min_rate']:g} msgs/s end to end on two cores (here N={high.n})",
                round(rate, 1),
                rate >= TARGETS["ingest"]["min_rate"],
                f"{TARGETS['ingest']['min_rate'] - rate:.0f} msgs/s short ({rate / TARGETS['ingest']['min_rate']:.0%})",
            )
        )
    projected = report.get("round_1m_projected_s")
    if projected is not None:
        on_sqlite = str(report.get("database", "")).startswith("sqlite")
        limit = TARGETS["round_sqlite" if on_sqlite else "round_prefect"]["max_s_per_million"]
        found.append(
            _target(
                "round_1m",
                f"ingest+grouping+log+note for 1,000,000 in < {limit:g} s (projected from N={high.n})",
                round(projected, 1),
                projected < limit,
                f"{projected - limit:.0f} s over ({projected / limit:.1f}×)",
            )
        )
    # The round's own stages, peak while each ran (what the bench itself holds is included, so
    # this errs high); the process's all-time peak also counts the floors and the generator.
    round_parts = [s for s in high.stages if s.name in ROUND_PARTS and s.stage_rss_mb is not None]
    if round_parts:
        rss = max(s.stage_rss_mb or 0.0 for s in round_parts)
        what = f"< {RSS_MAX_MB:g} MB while the round's stages run (bench data included)"
    else:
        rss = max((s.peak_rss_mb for s in high.stages), default=0.0)
        what = f"< {RSS_MAX_MB:g} MB (process peak)"
    found.append(
        _target(
            "peak_rss",
            what,
            round(rss, 1),
            rss < RSS_MAX_MB,
            f"{rss - RSS_MAX_MB:.0f} MB over",
        )
    )
    for stage, k in (report.get("exponents") or {}).items():
        if k is not None and not stage.startswith("floor:") and stage != "generate":
            found.append(
                _target(
                    f"exponent:{stage}",
                    f"<= {EXPONENT_MAX}",
                    round(k, 3),
                    k <= EXPONENT_MAX,
                    f"{k - EXPONENT_MAX:.2f} over",
                )
            )
    share = (report.get("prefect") or {}).get("prefect_share")
    if share is not None:
        found.append(
            _target(
                "prefect_share",
                f"< {PREFECT_SHARE_MAX:.0%}",
                round(share, 4),
                share < PREFECT_SHARE_MAX,
                f"{share - PREFECT_SHARE_MAX:.1%} over",
            )
        )
    grouping = report.get("grouping") or {}
    if "precision" in grouping:
        p, r = grouping["precision"], grouping["recall"]
        found.append(
            _target(
                "grouping",
                f"precision and recall >= {GROUPING_MIN}",
                {"precision": round(p, 4), "recall": round(r, 4)},
                p >= GROUPING_MIN and r >= GROUPING_MIN,
                f"precision short by {max(0.0, GROUPING_MIN - p):.3f}, recall short by {max(0.0, GROUPING_MIN - r):.3f}",
            )
        )
    municipal = report.get("municipal")
    if municipal:
        found.append(
            _target(
                "municipal_deadline_to_note",
                f"<= {MUNICIPAL_MAX_S:g} s (50 parties, under Prefect)",
                round(municipal["deadline_to_note_s"], 2),
                municipal["target_met"],
                municipal["shortfall"],
            )
        )
    ok = bool(report["completeness"].get("ok"))
    found.append(
        _target(
            "completeness",
            "fetched = stored = processed; counted = truth",
            ok,
            ok,
            "; ".join(report["completeness"].get("problems", [])),
        )
    )
    return found


def run(
    n: int,
    database_url: str | None = None,
    json_output: bool = False,
    *,
    small: int | None = None,
    work_dir: Path | None = None,
    seed: int = 1,
    prefect: bool = True,
    prefect_max: int = PREFECT_MAX,
    warm_up: bool = True,
) -> dict[str, Any]:
    """Both sizes, every stage, the derived figures; prints a table or one JSON document.

    ``small=0`` runs one size only (no exponents). The whole round under Prefect runs at the
    largest size not above ``prefect_max``. Raises :class:`BenchIncompleteError` (after printing)
    when a message was lost or miscounted at either size.
    """
    small = max(200, n // 10) if small is None else small
    with tempfile.TemporaryDirectory(prefix="hoering-bench-") as tmp:
        work = work_dir or Path(tmp)
        warm = 0.0
        if warm_up:
            started = time.perf_counter()
            run_size(60, database_url, work / "warm-up", seed=seed + 1, prefect=prefect)
            warm = time.perf_counter() - started
        low = None
        if small and small < n:
            low = run_size(
                small, database_url, work / "small", seed=seed, prefect=prefect and n > prefect_max >= small
            )
        high = run_size(n, database_url, work / "large", seed=seed, prefect=prefect and n <= prefect_max)
        municipal = municipal_round(database_url, work, seed=seed) if prefect else None
    found = exponents(low.stages, high.stages, small, n) if low else {}
    round_stage = next((s for s in high.stages if s.name == "round"), None)
    prefect_result = high.prefect or (low.prefect if low else None)
    report: dict[str, Any] = {
        "n": n,
        "n_small": small if low else None,
        "database": redact_url(database_url) if database_url else "sqlite (default)",
        "warm_up_s": warm,
        "stages": [asdict(s) for s in high.stages],
        "stages_small": [{"name": s.name, "wall_s": s.wall_s, "items": s.items} for s in low.stages]
        if low
        else [],
        "exponents": found,
        "grouping": high.grouping,
        "completeness": high.completeness,
        "completeness_small": low.completeness if low else None,
        "round_1m_projected_s": _projection(round_stage, found.get("round")),
        "prefect": prefect_result,
        "prefect_share": prefect_result["prefect_share"] if prefect_result else None,
        "deadline_to_note_s": prefect_result["deadline_to_note_s"] if prefect_result else None,
        "municipal": municipal,
        "ground_truth": {
            "messages": n,
            "distinct_bytes": high.facts.unique_sha256,
            "kinds": dict(high.facts.kinds),
            "expected_remarks": high.facts.expected_remarks,
        },
    }
    report["targets"] = targets(report, high)
    report["targets_missed"] = [t for t in report["targets"] if t["met"] is False]
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str) if json_output else render(report))
    failed = [
        c for c in (high.completeness, low.completeness if low else None) if c is not None and not c.get("ok")
    ]
    if failed:
        problems = "; ".join(p for c in failed for p in c.get("problems", ["no completeness check ran"]))
        raise BenchIncompleteError(f"benchmark incomplete: {problems}")
    return report


def render(report: Mapping[str, Any]) -> str:
    small = f" (exponent from N={report['n_small']})" if report["n_small"] else ""
    lines = [
        f"hoering bench: N={report['n']}{small}, database {report['database']}, warm-up {report['warm_up_s']:.1f} s",
        f"{'stage':<22}{'wall s':>9}{'cpu s':>9}{'items':>9}{'items/s':>10}{'RSS MB':>8}{'eff.':>7}{'k':>6}  note",
    ]
    exps = report["exponents"]
    for s in report["stages"]:
        eff = f"{s['efficiency']:.2f}" if s["efficiency"] is not None else "-"
        k = exps.get(s["name"])
        verdict = (
            "" if s["target_met"] is None else ("ok" if s["target_met"] else f"MISSED: {s['shortfall']}")
        )
        lines.append(
            f"{s['name']:<22}{s['wall_s']:>9.3f}{s['cpu_s']:>9.3f}{s['items']:>9}{s['items_per_s']:>10.0f}"
            f"{s.get('stage_rss_mb') or s['peak_rss_mb']:>8.0f}{eff:>7}{(f'{k:.2f}' if k is not None else '-'):>6}  {s['error'] or verdict}"
        )
    g = report["grouping"]
    if "precision" in g:
        lines.append(
            f"grouping: precision {g['precision']:.3f}, recall {g['recall']:.3f} over {g['texts']} texts"
        )
    c = report["completeness"]
    lines.append(
        f"completeness: {'ok' if c.get('ok') else 'FAILED'}: files {c.get('files')}, fetched {c.get('fetched')}, "
        f"stored {c.get('stored')}/{c.get('distinct_bytes')}, processed {c.get('processed')}, "
        f"counted {c.get('counted')}/{c.get('counted_expected')}"
    )
    for what, files in (c.get("mismatches") or {}).items():
        lines.append(f"  {what}: {', '.join(files[:5])}")
    p = report["prefect"]
    if p:
        lines.append(
            f"whole round (N={p['n']}): plain {p['plain_total_s']:.1f} s, Prefect {p['prefect_total_s']:.1f} s "
            f"({p['mode']}), share {p['prefect_share']:.1%}, {p['overhead_ms_per_task_run']:.0f} ms/task run, "
            f"deadline→note {p['deadline_to_note_s']:.1f} s"
        )
    m = report["municipal"]
    if m:
        lines.append(
            f"municipal round (50 parties, {m['responses']} mails): deadline→note {m['deadline_to_note_s']:.1f} s"
        )
    if report["round_1m_projected_s"] is not None:
        lines.append(f"round at 1,000,000 (projected): {report['round_1m_projected_s']:.0f} s")
    for t in report["targets_missed"]:
        lines.append(f"MISSED {t['name']}: {t['value']} (target {t['target']}): {t['shortfall']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench``: ``--responses``, ``--database``, ``--json`` and a few more knobs."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--database")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--small", type=int, help="the second size for exponents; 0: none")
    parser.add_argument("--no-prefect", action="store_true")
    parser.add_argument("--prefect-max", type=int, default=PREFECT_MAX)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args(argv)
    try:
        run(
            args.responses,
            args.database,
            args.json,
            small=args.small,
            prefect=not args.no_prefect,
            prefect_max=args.prefect_max,
            work_dir=args.work_dir,
        )
    except HoeringError as exc:  # BenchIncompleteError among them: one line, non-zero exit
        print(f"python -m bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
