"""Public corpora (workbooks, Outlook messages) through inspect_attachment: read or refused, bounded."""

from __future__ import annotations

import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from flows.adapters.attachments import inspect_attachment

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
WORKBOOK_EXTENSIONS = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}


def _files(folder: str, extensions: set[str]) -> list[Path]:
    root = CORPORA / folder
    if not root.is_dir():
        pytest.skip(f"../shared/corpora is absent: {root} not found")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in extensions)


def _reset_peak() -> bool:
    """Start the process's peak RSS afresh (Linux ``clear_refs``); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb(reset: bool) -> float:
    # ru_maxrss is no good in a spawned child: Linux carries the high-water mark of the forked
    # parent's pages across exec, so a child of a 900 MB pytest worker starts at 900 MB
    if reset:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_all(paths: list[Path]) -> tuple[dict[str, str | None], float]:
    """Each file's outcome, and the peak RSS (MB) of the process while it read them all."""
    reset = _reset_peak()
    outcomes: dict[str, str | None] = {}
    for path in paths:
        att = inspect_attachment(path.name, "application/octet-stream", path.read_bytes())
        # read (no problem) or refused with a reason a person can act on
        assert att.problem is None or len(att.problem.strip()) > 10, (path.name, att.problem)
        outcomes[path.name] = att.problem
    return outcomes, _peak_mb(reset)


def _run_all(paths: list[Path]) -> tuple[dict[str, str | None], float]:
    """``_read_all`` in a fresh process: its peak RSS is these files' alone, not that of whatever
    the test process (a pytest worker) ran before."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(_read_all, paths).result()


def test_every_calamine_workbook_is_read_or_refused_with_a_reason() -> None:
    """Each corpus workbook either yields content or a Danish reason, within 10 s and 512 MB RSS."""
    paths = _files("spreadsheets/calamine", WORKBOOK_EXTENSIONS)
    assert paths
    outcomes, peak_mb = _run_all(paths)
    assert peak_mb < 512, f"peak RSS {peak_mb:.0f} MB"
    for name in ("pass_protected.xlsx", "pass_protected.xlsb", "pass_protected.ods"):
        if name in outcomes:
            assert outcomes[name], f"{name} should be refused"
    if "vba.xlsm" in outcomes:
        assert outcomes["vba.xlsm"] == "Makroer i regnearket er ignoreret"
    assert sum(problem is None for problem in outcomes.values()) > len(outcomes) // 2


def test_every_msg_is_read_or_refused_with_a_reason() -> None:
    """Each corpus .msg yields its subject/sender/body text or a reason, within 10 s and 512 MB RSS."""
    paths = _files("msg", {".msg"})
    assert paths
    outcomes, peak_mb = _run_all(paths)
    assert peak_mb < 512, f"peak RSS {peak_mb:.0f} MB"
    assert sum(problem is None for problem in outcomes.values()) > len(outcomes) // 2
