"""``hoering bench``: every stage on a generated corpus, each beside its §4 floor in the same run.

Per stage: wall and CPU seconds, items/s, the process's peak RSS so far, and the ratio to the
floor (pipeline time / floor time, so 1.0 is the floor and bigger is slower). Also: campaign
grouping precision/recall against the truth, the scaling exponent of each stage between a small
and the full size, Prefect's share of the end-to-end time, and deadline-to-note time. Where a
target is missed, the stage says by how much (``shortfall``).

Pipeline stages call the product's services; a service that does not exist yet becomes a
"stage not available yet: <ImportError>" entry rather than a crash, so the harness runs today
and fills in as the services land.
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
    ratio_to_floor: float | None = None
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
    if floor_s:
        stage.floor_s = floor_s
        stage.ratio_to_floor = stage.wall_s / floor_s if stage.error is None else None
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

    texts: dict[int, str] = field(default_factory=dict)
    truth_campaign: dict[int, str | None] = field(default_factory=dict)
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


def grouping_eligible(truth: Mapping[str, Any]) -> bool:
    """E-mail responses whose text is in the body (templates and letters carry theirs elsewhere)."""
    return truth["kind"] == "response" and not truth.get("attachments") and not truth.get("no_remarks")


def corpus_floors(
    corpus: CorpusInfo, database_url: str | None, work: Path
) -> tuple[list[Stage], CorpusFacts]:
    """One streaming pass: every floor on the same bytes, plus the facts the checks need."""
    parse = floors.FloorResult("mime_parse")
    template = floors.FloorResult("template_read")
    dedup = floors.FloorResult("exact_dedup")
    persist = floors.PersistFloor(database_url)
    excel = floors.ExcelFloor(work / "floor-log.xlsx")
    paragraphs: list[str] = []
    seen_text: set[bytes] = set()
    facts = CorpusFacts()
    hashes: set[str] = set()
    for chunk in _chunks(corpus):
        trees = floors.mime_parse_floor([data for _i, _t, data in chunk], parse)
        texts = [body_text(tree) for tree in trees]
        floors.template_read_floor([x for tree in trees for x in _xlsx_parts(tree)], template)
        normalised = [floors.normalise(t) for t in texts]
        new = floors.exact_dedup_floor(normalised, dedup)
        persist.add(
            [
                _persist_row(truth, tree, text)
                for (_i, truth, _d), tree, text in zip(chunk, trees, texts, strict=True)
            ]
        )
        excel.add([_log_row(i, truth, text) for (i, truth, _d), text in zip(chunk, texts, strict=True)])
        for (index, truth, _data), text, norm in zip(chunk, texts, normalised, strict=True):
            _note(facts, index, truth, text)
            hashes.add(truth["sha256"])
            key = hashlib.sha1(norm.encode(), usedforsecurity=False).digest()
            if truth["kind"] == "response" and key not in seen_text and len(paragraphs) < WORD_FLOOR_CAP:
                seen_text.add(key)
                paragraphs.extend([truth.get("party") or truth["sender"], text])
        del new
    facts.unique_sha256 = len(hashes)
    results = [parse, template, dedup, persist.finish(), excel.finish()]
    results.append(floors.word_floor(paragraphs, work / "floor-note.docx"))
    return [from_floor(r) for r in results], facts


def _note(facts: CorpusFacts, index: int, truth: Mapping[str, Any], text: str) -> None:
    facts.parsed += 1
    facts.kinds[truth["kind"]] += 1
    facts.expected_remarks += int(truth["remarks"])
    if grouping_eligible(truth) and len(facts.texts) < GROUPING_CAP:
        facts.texts[index] = text
        facts.truth_campaign[index] = truth["campaign"]


def _persist_row(truth: Mapping[str, Any], tree: Message, text: str) -> tuple[Any, ...]:
    return (
        truth["sha256"],
        str(tree.get("From", "")),
        truth["received"],
        str(tree.get("Subject", "")),
        truth["kind"],
        text,
    )


def _log_row(index: int, truth: Mapping[str, Any], text: str) -> tuple[str, ...]:
    return (str(index + 1), truth.get("party") or "", truth["sender"], str(truth["received"]), text[:32767])


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


def grouping_stage(facts: CorpusFacts) -> Stage:
    scores: dict[str, float] = {}

    def call() -> int:
        from flows.core.campaigns import group_campaigns

        predicted: dict[int, str | None] = dict(group_campaigns(facts.texts))
        scores.update(grouping_scores(predicted, facts.truth_campaign))
        return len(facts.texts)

    stage = timed("campaign_grouping", call)
    stage.detail.update(scores)
    stage.target = f"precision and recall >= {GROUPING_MIN}"
    if scores:
        stage.target_met = scores["precision"] >= GROUPING_MIN and scores["recall"] >= GROUPING_MIN
        if not stage.target_met:
            stage.shortfall = (
                f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f} (target {GROUPING_MIN})"
            )
    return stage


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


def pipeline_stages(
    corpus: CorpusInfo, database_url: str | None, work: Path, facts: CorpusFacts
) -> list[Stage]:
    """The product's own stages, on the corpus, against a fresh data dir and database.

    Wired to the service names the lead is writing; each missing one reports itself.
    """
    env = _product_environment(corpus, database_url, work)
    return [
        timed("invite", lambda: _invite(corpus, env)),
        timed("ingest", lambda: _ingest(corpus, env, facts)),
        timed("template_extraction", lambda: _templates(corpus)),
        timed("log_and_note", lambda: _assemble(corpus, env, work)),
    ]


def _product_environment(corpus: CorpusInfo, database_url: str | None, work: Path) -> dict[str, str]:
    data = work / "data"
    env = {
        "HOERING_DATA_DIR": str(data),
        "HOERING_INBOX_URL": f"maildir://{corpus.maildir}",
        "HOERING_NOW": "2024-10-26T09:00:00+02:00",
    }
    if database_url:
        env["HOERING_DATABASE_URL"] = database_url
    os.environ.update(env)
    return env


def _app() -> Any:
    from flows.bootstrap import bootstrap

    return bootstrap()


def _invite(corpus: CorpusInfo, env: dict[str, str]) -> int:
    from flows.bench.smtp_sink import SmtpSink
    from flows.services.inviting import invite
    from flows.services.opening import open_round

    with SmtpSink() as sink:
        os.environ["HOERING_SMTP_URL"] = f"smtp://127.0.0.1:{sink.port}"
        app = _app()
        open_round(app, corpus.round_file)
        invite(app, corpus.round_id)
        return sink.count


def _ingest(corpus: CorpusInfo, env: dict[str, str], facts: CorpusFacts) -> int:
    """Fetch (raw store) + parse, classify, match, persist; checks fetched = stored = counted."""
    from flows.services.collecting import chunks, fetch, pending_raw_ids
    from flows.services.ingesting import process_batch

    app = _app()
    report = fetch(app)
    processed = 0
    for ids in chunks(pending_raw_ids(app), app.settings.imap_batch):
        processed += process_batch(app, corpus.round_id, ids).processed
    problems = completeness(corpus.messages, facts.unique_sha256, report.fetched, report.stored, processed)
    if problems:
        raise AssertionError("; ".join(problems))
    return report.fetched


def completeness(messages: int, unique: int, fetched: int, stored: int, processed: int) -> list[str]:
    """fetched = every file; stored = every distinct byte string; processed = stored."""
    problems = []
    if fetched != messages:
        problems.append(f"fetched {fetched} of {messages} messages")
    if stored != unique:
        problems.append(f"stored {stored}, expected {unique} distinct messages")
    if processed != stored:
        problems.append(f"processed {processed} of {stored} stored")
    return problems


def _templates(corpus: CorpusInfo) -> int:
    from flows.adapters.response_template import read_template

    count = 0
    for chunk in _chunks(corpus):
        for _index, _truth, data in chunk:
            for workbook in _xlsx_parts(email.message_from_bytes(data)):
                read_template(workbook)
                count += 1
    return count


def _assemble(corpus: CorpusInfo, env: dict[str, str], work: Path) -> int:
    from flows.services.assembling import assemble

    assemble(_app(), corpus.round_id, work / "out")
    return corpus.messages


# ------------------------------------------------------------------ run


def run_size(
    n: int, database_url: str | None, work: Path, *, seed: int = 1, pipeline: bool = True
) -> dict[str, Any]:
    corpus_dir = work / f"corpus-{n}"
    stage = Stage("generate")
    cpu = time.process_time()
    corpus = generate(n, corpus_dir, seed=seed)
    stage.wall_s, stage.cpu_s, stage.items = corpus.seconds, time.process_time() - cpu, n
    stage.peak_rss_mb = peak_rss_mb()
    stage.detail.update(bytes=corpus.files_bytes, kinds=corpus.kinds)
    finish(stage, None)
    check_rate(stage, TARGETS["generate"]["min_rate"])
    floor_stages, facts = corpus_floors(corpus, database_url, work)
    stages = [stage, *floor_stages]
    if pipeline:
        stages += pipeline_stages(corpus, database_url, work, facts)
        stages.append(grouping_stage(facts))
        _attach_floors(stages)
    return {"n": n, "stages": stages, "facts": facts, "corpus": corpus}


def _attach_floors(stages: list[Stage]) -> None:
    """Each pipeline stage against the sum of the floors it stands for."""
    floor = {s.name.removeprefix("floor:"): s.wall_s for s in stages if s.name.startswith("floor:")}
    parts = {
        "ingest": ("mime_parse", "exact_dedup", "persist"),
        "template_extraction": ("template_read",),
        "log_and_note": ("excel_log", "word_note"),
    }
    for stage in stages:
        names = parts.get(stage.name)
        if names and not stage.error:
            finish(stage, sum(floor.get(n, 0.0) for n in names) or None)
        if stage.name == "ingest":
            check_rate(stage, TARGETS["ingest"]["min_rate"])


def run(
    n: int,
    database_url: str | None = None,
    json_output: bool = False,
    *,
    small: int | None = None,
    work_dir: Path | None = None,
    seed: int = 1,
) -> dict[str, Any]:
    """Both sizes, every stage, the derived figures; prints a table or one JSON document."""
    small = small or max(200, n // 10)
    with tempfile.TemporaryDirectory(prefix="hoering-bench-") as tmp:
        work = work_dir or Path(tmp)
        low = run_size(small, database_url, work / "small", seed=seed)
        high = run_size(n, database_url, work / "large", seed=seed)
    found = exponents(low["stages"], high["stages"], small, n)
    report = {
        "n": n,
        "n_small": small,
        "database": _redact(database_url) or "sqlite (default)",
        "stages": [asdict(s) for s in high["stages"]],
        "exponents": found,
        "ground_truth": {
            "messages": n,
            "distinct_bytes": high["facts"].unique_sha256,
            "kinds": dict(high["facts"].kinds),
            "expected_remarks": high["facts"].expected_remarks,
            "parsed": high["facts"].parsed,
        },
        "prefect_share": None,
        "deadline_to_note_s": None,
        "not_wired": ["whole round under Prefect (prefect_share, deadline_to_note_s)"],
    }
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str) if json_output else render(report))
    return report


def _redact(url: str | None) -> str | None:
    return re.sub(r"//[^@/]*@", "//***@", url) if url else None


def render(report: Mapping[str, Any]) -> str:
    lines = [
        f"hoering bench: N={report['n']} (exponent from N={report['n_small']}), database {report['database']}",
        f"{'stage':<26}{'wall s':>9}{'cpu s':>9}{'items':>9}{'items/s':>11}{'RSS MB':>8}{'×floor':>8}  target",
    ]
    for s in report["stages"]:
        ratio = f"{s['ratio_to_floor']:.2f}" if s["ratio_to_floor"] else "-"
        verdict = (
            "" if s["target_met"] is None else ("ok" if s["target_met"] else f"MISSED: {s['shortfall']}")
        )
        lines.append(
            f"{s['name']:<26}{s['wall_s']:>9.3f}{s['cpu_s']:>9.3f}{s['items']:>9}{s['items_per_s']:>11.0f}"
            f"{s['peak_rss_mb']:>8.0f}{ratio:>8}  {s['error'] or verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point until ``hoering bench`` is wired in flows/cli.py (which the lead owns)."""
    import argparse

    parser = argparse.ArgumentParser(prog="hoering bench")
    parser.add_argument("--responses", type=int, default=2000)
    parser.add_argument("--database")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--small", type=int)
    args = parser.parse_args(argv)
    run(args.responses, args.database, args.json, small=args.small)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
