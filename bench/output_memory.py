"""Peak resident memory of each output stage, each in a fresh process (``python -m bench.output_memory``).

``prepare N DIR`` generates a corpus and ingests it into a kept data dir (and database);
``measure DIR`` then runs each output stage (the assembly read, the log, the note, the public
version; the chain with the note and its gate; and the whole ``assemble`` service) in its own fresh interpreter and prints its ``ru_maxrss``, so no figure carries memory
that an earlier stage, the bench's own inputs or the corpus generator left behind.

``measure DIR bundle`` times the combined PDF alone: the assembly is read first, then the peak is
reset (``/proc/self/clear_refs``) so ``bundle_peak_mb`` is the PDF's own; ``HOERING_BENCH_BUNDLE_VOLUME``
sets the responses per volume (default: the product's ``BUNDLE_VOLUME``).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STAGES = ("assembly", "chain", "log", "note", "public", "assemble")


def _product(work: Path) -> Any:
    from bench import stages as stages_mod
    from bench.corpus import CorpusInfo

    meta = json.loads((work / "output-memory.json").read_text())
    fields: dict[str, Any] = {k: (Path(v) if k in _PATHS else v) for k, v in meta["corpus"].items()}
    corpus = CorpusInfo(**fields)
    return stages_mod.Product(corpus, work / "data", meta["database_url"])


_PATHS = {"out_dir", "maildir", "truth", "round_file"}


def prepare(n: int, work: Path, database_url: str | None) -> None:
    from dataclasses import asdict

    from bench import stages as stages_mod
    from bench.corpus import generate

    work.mkdir(parents=True, exist_ok=True)
    corpus = generate(n, work / "corpus")
    product = stages_mod.Product(corpus, work / "data", database_url)
    stages_mod.open_round(product)
    stages_mod.invite(product, {})
    stages_mod.ingest(product, stages_mod.IngestResult(), time.perf_counter)
    product.close()
    meta: dict[str, Any] = {
        "corpus": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(corpus).items()},
        "database_url": database_url,
    }
    (work / "output-memory.json").write_text(json.dumps(meta, default=str))


def run_stage(stage: str, work: Path) -> dict[str, Any]:
    """One output stage in this (fresh) process: what it took and the process's peak."""
    from bench import stages as stages_mod

    product = _product(work)
    out = work / "out"
    out.mkdir(exist_ok=True)
    app = product.app(stages_mod.COLLECT_NOW)
    round_id = product.corpus.round_id
    wall, cpu = time.perf_counter(), time.process_time()
    if stage == "assembly":
        from flows.services.assembling import build_assembly

        build_assembly(app, round_id)
    elif stage == "chain":
        from flows.adapters.word_note import write_note
        from flows.services.assembling import build_assembly, letterhead
        from flows.services.chain import attach_chain

        assembly = build_assembly(app, round_id)
        attach_chain(app, round_id, assembly)  # every stored file hashed, then the note's gate
        write_note(assembly, out / "note.docx", letterhead=letterhead(app))
    elif stage == "log":
        from flows.adapters.excel_log import write_log
        from flows.services.assembling import build_assembly

        write_log(build_assembly(app, round_id), out / "log.xlsx")
    elif stage == "note":
        from flows.adapters.word_note import write_note
        from flows.services.assembling import build_assembly, letterhead

        write_note(build_assembly(app, round_id), out / "note.docx", letterhead=letterhead(app))
    elif stage == "public":
        from flows.services import publishing
        from flows.services.assembling import build_assembly, letterhead

        prepared = publishing.prepare(app, build_assembly(app, round_id))
        publishing.write_public(app, prepared, out, letterhead(app))
    elif stage == "assemble":
        import shutil

        from flows.services.assembling import assemble

        # the whole service: staff edits, placements, public version, chain, log, note and its
        # gate, bundle, public note; into an empty folder, so no earlier run's log is read back
        shutil.rmtree(out / "assemble", ignore_errors=True)
        assemble(app, round_id, out / "assemble")
    elif stage == "bundle":
        return _bundle_stage(app, round_id, out, product)
    else:
        raise SystemExit(f"unknown stage {stage}")
    result = {
        "stage": stage,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    product.close()
    return result


def _bundle_stage(app: Any, round_id: str, out: Path, product: Any) -> dict[str, Any]:
    from flows.adapters.pdf_bundle import write_bundle
    from flows.services.assembling import build_assembly

    assembly = build_assembly(app, round_id)
    per_volume = os.environ.get("HOERING_BENCH_BUNDLE_VOLUME")
    options: dict[str, Any] = {"per_volume": int(per_volume)} if per_volume else {}
    before = _status_kb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS: the peak from here on is the PDF's
    wall, cpu = time.perf_counter(), time.process_time()
    files = write_bundle(assembly, out / f"{round_id}-samlede-hoeringssvar.pdf", **options)
    result = {
        "stage": "bundle",
        "responses": len(assembly.responses),
        "per_volume": per_volume or "default",
        "files": len(files) if files else 1,
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "rss_before_mb": round(before / 1024, 1),
        "bundle_peak_mb": round(_status_kb("VmHWM") / 1024, 1),
        "bundle_added_mb": round((_status_kb("VmHWM") - before) / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    product.close()
    return result


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} in /proc/self/status")


def measure(work: Path, stages: tuple[str, ...] = STAGES) -> list[dict[str, Any]]:
    found = []
    for stage in stages:
        done = subprocess.run(
            [sys.executable, "-m", "bench.output_memory", "stage", stage, str(work)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            found.append({"stage": stage, "error": done.stderr.strip().splitlines()[-1:]})
        else:
            found.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(found[-1]), file=sys.stderr, flush=True)
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[0] == "prepare":
        prepare(int(args[1]), Path(args[2]), args[3] if len(args) > 3 else None)
    elif args[0] == "stage":
        print(json.dumps(run_stage(args[1], Path(args[2]))))
    else:
        print(json.dumps(measure(Path(args[1]), tuple(args[2:]) or STAGES), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
