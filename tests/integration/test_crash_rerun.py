"""The crash test kept, on SQLite: SIGKILL invite, collect and assemble at seeded random moments,
rerun each to completion, and check exactly-once and that no process was left behind.

With ``test_crash_rerun_postgresql.py`` (a module of its own, so the test command's two pytest
workers run the two halves side by side) that is 50 kills in all. The seed is random unless
``HOERING_KILL_SEED`` is set, and every failure message carries it, so a failing run can be
replayed. The by-hand run of 200 kills: ``tests/support/crash_campaign.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.crash_campaign import check_campaign


@pytest.mark.timeout(1800)  # 25 commands or more; several minutes on a busy machine
def test_kills_at_random_points_then_reruns_give_everything_exactly_once(tmp_path: Path) -> None:
    check_campaign(tmp_path, "sqlite", kills=25)
