"""Flow: write the log (Excel), the draft note (Word) and the bundle (PDF) for staff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.artifacts import publish, tag_run
from flows.core.outputs import bundle_labels
from flows.notify import alert_contact
from flows.runtime import PLAIN, get_app, run_name
from flows.services import assembling


@task(name="write log, note and bundle", **PLAIN)
def write_outputs(round_id: str, out_dir: str | None, now: str | None) -> dict[str, Any]:
    report = assembling.assemble(get_app(now), round_id, Path(out_dir) if out_dir else None)
    return {
        "log": str(report.log),
        "note": str(report.note),
        "bundle": [str(p) for p in report.bundle],  # the PDF, or its volumes in order
        "counted": report.counted,
        "late": report.late,
        "review": report.review,
        "quality_problems": report.quality_problems,
        "public": [str(p) for p in report.public or ()],
    }


@flow(
    name="hoering-assemble",
    flow_run_name=run_name("assemble"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def assemble(round_id: str, out_dir: str | None = None, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    result = write_outputs(round_id, out_dir, now)
    outputs = {"Høringslog": result["log"], "Høringsnotat": result["note"]}
    if result["public"]:
        note, *bundle = result["public"]
        outputs["Høringsnotat (offentlig)"] = note
        outputs.update(bundle_labels("Samlede høringssvar (offentlig)", bundle))
    publish(round_id, get_app(now), step="høringslog og notat", outputs=outputs)
    return result
