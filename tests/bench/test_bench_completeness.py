"""CI's benchmark check: at N=2,000 every stage completes and nothing is lost (not a timed test).

Fetched = every file, stored = every distinct byte string, one item per stored message, and the
counted responses exactly those the ground truth says should count; on SQLite, and on the
PostgreSQL the test command starts (a fresh database in it). The whole round under Prefect is
left to ``hoering bench`` (it starts Prefect's API and runs the corpus twice).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.corpus import CorpusInfo
from bench.harness import BenchIncompleteError, run
from tests.support.databases import fresh_database

N = 2000
BUDGET_S = 150.0


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    base = os.environ.get("HOERING_TEST_PG_URL")
    if not base:
        pytest.skip("HOERING_TEST_PG_URL is unset: run the suite with `make test`, which starts PostgreSQL")
    with fresh_database(base) as url:
        yield url


def test_every_stage_completes_and_nothing_is_lost(
    bench_database: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    report = run(N, bench_database, True, small=0, prefect=False, warm_up=False, work_dir=tmp_path)
    elapsed = time.perf_counter() - started
    capsys.readouterr()

    completeness = report["completeness"]
    assert completeness["ok"], completeness
    assert completeness["files"] == completeness["fetched"] == N
    assert completeness["stored"] == completeness["processed"] == completeness["items"]
    assert completeness["stored"] == report["ground_truth"]["distinct_bytes"]
    assert completeness["counted"] == completeness["counted_expected"] > 0
    stages = {s["name"]: s for s in report["stages"]}
    for name in (
        "open",
        "invite",
        "ingest",
        "template_extraction",
        "campaign_grouping",
        "assembly_read",
        "excel_log",
        "word_note",
    ):
        assert stages[name]["error"] is None, (name, stages[name]["error"])
        assert stages[name]["items"] > 0, name
    assert stages["invite"]["detail"]["received"] == stages["invite"]["detail"]["expected"]
    assert elapsed < BUDGET_S, f"the N={N} check took {elapsed:.0f} s"


def test_a_lost_message_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A message the product never sees (its file vanishes after the floors read it) fails the run."""
    from bench import harness

    real_floors = harness.corpus_floors

    def then_lose_one(corpus: CorpusInfo, database_url: str | None, work: Path) -> Any:
        found = real_floors(corpus, database_url, work)
        victim = sorted((corpus.maildir / "new").iterdir())[0]
        victim.rename(tmp_path / victim.name)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harness, "corpus_floors", then_lose_one)
        with pytest.raises(BenchIncompleteError, match="not stored"):
            run(60, None, True, small=0, prefect=False, warm_up=False, work_dir=tmp_path / "w")
    capsys.readouterr()
