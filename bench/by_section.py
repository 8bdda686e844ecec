"""Benchmark: `assemble` of a big round in by_section layout against by_party (not in the test command).

    python -m bench.by_section [N] [--no-bundle]     # default N = 100,000 responses

A round with the ten-section test draft and N counted e-mail responses (one remark each, texts
drawn from the draft's own words, so placement has real work) is written straight into a SQLite
database; each layout then assembles a fresh copy of it, so each pays for placing every remark
once. Prints the seconds of each and their ratio (the issue's goal: by_section ≤ 1.3 × by_party).
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, update

from flows.adapters.db.sections import SqlSectionRepository
from flows.adapters.db.tables import PartyRow, RemarkRow, ResponseRow, RoundRow
from flows.adapters.excel_log import write_log
from flows.adapters.word_note import write_note
from flows.bootstrap import App, bootstrap
from flows.core.model import NoteLayout
from flows.core.outputs import output_paths
from flows.services.assembling import absorb_staff_edits, assemble, build_assembly
from flows.services.placing import prepare_placements, read_round_sections, with_placements
from flows.settings import Settings
from tests.support.draft_fixture import REMARKS, SECTIONS, write_docx

ROUND_ID = "bench-afsnit"
PARTIES = 1_000


def _texts(n: int) -> list[str]:
    rng = random.Random(7)
    words = " ".join(text for *_, text in SECTIONS).split() + " ".join(m.text for m in REMARKS).split()
    starts = [m.text for m in REMARKS]
    return [f"{rng.choice(starts)} {' '.join(rng.sample(words, 40))} (svar {i})" for i in range(n)]


def build(folder: Path, n: int) -> Path:
    """The round's database, filled by bulk inserts (ingesting N messages is another benchmark)."""
    folder.mkdir(parents=True, exist_ok=True)
    draft = write_docx(folder / "udkast.docx")
    app = bootstrap(Settings(data_dir=folder / "var", now=datetime(2025, 10, 25, tzinfo=UTC)))
    opens = datetime(2025, 10, 1, tzinfo=UTC)
    with app.db.transaction() as session:
        session.add(
            RoundRow(
                id=ROUND_ID,
                title="Strategi",
                subject="strategien",
                administration="Forvaltningen",
                consulted_body="Rådet",
                opens=opens,
                deadline=opens + timedelta(days=20),
                reply_to="h@kk.example",
                documents=[draft.name],
                reminders=[],
                late_policy="flag",
                source_dir=str(folder),
                spec_sha256="bench",
            )
        )
        session.flush()
        session.execute(
            insert(PartyRow),
            [
                {
                    "round_id": ROUND_ID,
                    "name": f"Forening {p:04d}",
                    "emails": [f"f{p}@x.example"],
                    "domains": [],
                    "position": p,
                    "active": True,
                    "person": False,
                }
                for p in range(PARTIES)
            ],
        )
        read_round_sections(SqlSectionRepository(session), ROUND_ID, str(folder), [draft.name])
    with app.db.transaction() as session:
        party_ids = [p.id for p in session.query(PartyRow).order_by(PartyRow.id)]
    texts = _texts(n)
    for start in range(0, n, 10_000):
        with app.db.transaction() as session:
            rows = [
                {
                    "round_id": ROUND_ID,
                    "number": i + 1,
                    "reference": f"{ROUND_ID}-{i + 1:06d}",
                    "kind": "response",
                    "channel": "E-mail",
                    "party_id": party_ids[i % PARTIES],
                    "sender": f"f{i % PARTIES}@x.example",
                    "received_at": opens + timedelta(seconds=10 * i),
                    "text": texts[i],
                    "full_text": texts[i],
                    "verified": "none",
                    "details": {},
                }
                for i in range(start, min(n, start + 10_000))
            ]
            ids = session.execute(
                insert(ResponseRow).returning(ResponseRow.id, ResponseRow.number), rows
            ).all()
            session.execute(
                insert(RemarkRow),
                [
                    {
                        "round_id": ROUND_ID,
                        "response_id": rid,
                        "number": f"{num}.1",
                        "position": 1,
                        "section": "",
                        "text": texts[num - 1],
                        "proposal": "",
                    }
                    for rid, num in ids
                ],
            )
    app.db.dispose()
    return folder / "var"


def timed(data_dir: Path, layout: NoteLayout, *, bundle: bool) -> float:
    """Seconds of `assemble` (with ``bundle``), or of its steps but the PDF bundle (the same in
    both layouts, and most of the time: fpdf2 sets every line), step by step."""
    app: App = bootstrap(Settings(data_dir=data_dir, now=datetime(2025, 10, 25, tzinfo=UTC)))
    with app.db.transaction() as session:
        session.execute(update(RoundRow).where(RoundRow.id == ROUND_ID).values(note_layout=layout.value))
    out = data_dir / "out"
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if bundle:
        report = assemble(app, ROUND_ID, out)
        seconds = time.perf_counter() - start
        print(
            f"{layout.value}: assemble {seconds:.1f} s, {report.counted} responses, {report.quality_problems}"
        )
        return seconds
    steps: dict[str, float] = {}
    outputs = output_paths(out, ROUND_ID)
    log, note = outputs.log, outputs.note
    mark = time.perf_counter()
    absorb_staff_edits(app, ROUND_ID, log)
    prepare_placements(app, ROUND_ID, log)
    steps["place"], mark = time.perf_counter() - mark, time.perf_counter()
    assembly = with_placements(app, build_assembly(app, ROUND_ID))
    steps["read"], mark = time.perf_counter() - mark, time.perf_counter()
    write_log(assembly, log)
    steps["log"], mark = time.perf_counter() - mark, time.perf_counter()
    quality = write_note(assembly, note)
    steps["note"] = time.perf_counter() - mark
    seconds = time.perf_counter() - start
    shown = ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
    print(f"{layout.value}: {seconds:.1f} s without the bundle ({shown}); problems {quality.problems}")
    return seconds


def main(argv: list[str]) -> int:
    bundle = "--no-bundle" not in argv
    argv = [a for a in argv if a != "--no-bundle"]
    n = int(argv[0]) if argv else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        base = build(Path(tmp) / "round", n)
        copies = {}
        for layout in NoteLayout:
            copies[layout] = Path(tmp) / layout.value
            shutil.copytree(base, copies[layout])
        by_party = timed(copies[NoteLayout.BY_PARTY], NoteLayout.BY_PARTY, bundle=bundle)
        by_section = timed(copies[NoteLayout.BY_SECTION], NoteLayout.BY_SECTION, bundle=bundle)
        print(f"by_section / by_party = {by_section / by_party:.2f} (goal ≤ 1.3) at {n} responses")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
