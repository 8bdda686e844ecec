"""The crash test kept, on PostgreSQL: the other 25 of its 50 kills (see ``test_crash_rerun.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.crash_campaign import check_campaign


@pytest.mark.timeout(1800)  # 25 commands or more; several minutes on a busy machine
def test_kills_at_random_points_then_reruns_give_everything_exactly_once(tmp_path: Path) -> None:
    check_campaign(tmp_path, "postgresql", kills=25)
