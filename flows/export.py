"""Flow: the case file for the records system (ESDH), folder and reproducible zip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.artifacts import tag_run
from flows.notify import alert_contact
from flows.runtime import PLAIN, get_app, run_name
from flows.services import exporting


@task(name="write the case file", **PLAIN)
def write_case_file(round_id: str, out_dir: str | None, now: str | None) -> dict[str, Any]:
    report = exporting.export(get_app(now), round_id, Path(out_dir) if out_dir else None)
    return {
        "folder": str(report.folder),
        "zip": str(report.zip),
        "documents": report.documents,
        "manifest_sha256": report.manifest_sha256,
    }


@flow(
    name="hoering-export",
    flow_run_name=run_name("export"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def export(round_id: str, out_dir: str | None = None, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    return write_case_file(round_id, out_dir, now)
