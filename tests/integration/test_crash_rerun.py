"""The crash test kept: SIGKILL invite, collect and assemble at seeded random moments, rerun each
to completion, and check exactly-once and that no process was left behind (50 kills in all).

The seed is random unless ``HOERING_KILL_SEED`` is set, and every failure message carries it, so
a failing run can be replayed. The by-hand run of 200 kills: ``tests/support/crash_campaign.py``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.support.crash_campaign import run_campaign

KILLS = {"sqlite": 25, "postgresql": 25}


@pytest.mark.timeout(1800)  # 50 commands or more per backend; several minutes on a busy machine
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kills_at_random_points_then_reruns_give_everything_exactly_once(
    tmp_path: Path, backend: str
) -> None:
    seed = int(os.environ.get("HOERING_KILL_SEED") or random.SystemRandom().randrange(100_000))
    report = run_campaign(tmp_path, backend, KILLS[backend], seed=seed, messages=60)
    summary = report.summary()
    assert len(report.kills) == KILLS[backend]
    assert not report.failures, summary
    # Kills must mostly land while the command runs, or the test tests little.
    assert summary["kills_while_running"] >= KILLS[backend] // 3, summary
