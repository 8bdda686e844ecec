"""Flow: write the log (Excel), the draft note (Word) and the bundle (PDF) for staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.runtime import get_app, run_name
from flows.services import assembling


@task(name="write log, note and bundle")
def write_outputs(round_id: str, out_dir: str | None, now: str | None) -> dict[str, Any]:
    report = assembling.assemble(get_app(now), round_id, Path(out_dir) if out_dir else None)
    return {
        "log": str(report.log),
        "note": str(report.note),
        "bundle": str(report.bundle),
        "counted": report.counted,
        "late": report.late,
        "review": report.review,
        "quality_problems": report.quality_problems,
    }


@flow(name="hoering-assemble", flow_run_name=run_name("assemble"))
def assemble(round_id: str, out_dir: str | None = None, now: str | None = None) -> dict[str, Any]:
    return write_outputs(round_id, out_dir, now)
