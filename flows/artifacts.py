"""What a case worker sees of a round in the Prefect dashboard: tags and three keyed artifacts.

Every flow run of a round calls ``publish`` at its end, so the artifacts always show the latest
numbers and their history (one version per run) sits under Artifacts in the dashboard:

* ``<round>-parter``: a table of the parties, their status and number of responses,
* ``<round>-fremdrift``: progress, responses received out of parties invited,
* ``<round>-oversigt``: a short Danish summary with the numbers and where the log and note are.

Outside a Prefect run (plain function calls, unit tests) everything here does nothing, and a
problem while publishing is logged, never raised: a collection must not fail over a dashboard view.
Only names, statuses and counts are shown: no addresses, no message text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from flows.bootstrap import App
from flows.core.outputs import output_paths
from flows.core.tags import round_tag

log = logging.getLogger(__name__)


def artifact_key(round_id: str, what: str) -> str:
    """Prefect keys allow only ``[a-z0-9-]``; round ids already do, but be safe with any input."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{round_id}-{what}".lower()).strip("-")


def _in_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext

    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def tag_run(round_id: str) -> None:
    """Add ``round:<id>`` to the current flow run's tags, so the dashboard can filter by round.

    Runs created by a deployment schedule or the command line carry no round tag of their own;
    a ``tags()`` context inside the flow would tag only the task runs.
    """
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    tag = round_tag(round_id)
    current = list(context.flow_run.tags or [])
    if tag in current:
        return
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run(context.flow_run.id, tags=[*current, tag])
        context.flow_run.tags = [*current, tag]
    except Exception as exc:
        log.warning("Could not tag the run with %s: %s", tag, type(exc).__name__)


def summary_markdown(
    round_id: str, status: dict[str, Any], step: str, outputs: dict[str, str] | None = None
) -> str:
    invited = int(status.get("invited") or 0)
    responses = int(status.get("responses") or 0)
    lines = [
        f"# Høring {round_id}: {status.get('title', '')}",
        "",
        f"Seneste kørsel: **{step}**.",
        "",
        "| | |",
        "|---|---|",
        f"| Frist | {status.get('deadline', '')} |",
        f"| Lukket | {status.get('closed') or 'nej'} |",
        f"| Høringsparter inviteret | {invited} af {len(status.get('parties') or [])} |",
        f"| Rettidige svar | {responses} |",
        f"| For sene svar | {int(status.get('late') or 0)} |",
        f"| Til gennemsyn | {int(status.get('needs_review') or 0)} |",
        "",
    ]
    if outputs:
        lines += ["Høringslog og høringsnotat:", ""]
        lines += [f"* {label}: `{path}`" for label, path in outputs.items()]
    else:
        lines += ["Høringslog og høringsnotat er ikke skrevet endnu (kør `hoering assemble`)."]
    return "\n".join(lines) + "\n"


def default_outputs(app: App, round_id: str) -> dict[str, str]:
    """The log and note in the default output folder, when they exist there."""
    paths = output_paths(app.settings.out_dir(round_id), round_id)
    candidates = {"Høringslog": paths.log, "Høringsnotat": paths.note}
    return {label: str(path) for label, path in candidates.items() if path.is_file()}


def publish(
    round_id: str, app: App, *, step: str = "kørsel", outputs: dict[str, str] | None = None
) -> dict[str, Any]:
    """Create or update the round's three artifacts; returns what was shown ({} outside a run)."""
    if not _in_run():
        return {}
    try:
        from flows.services.status import round_status

        status = round_status(app, round_id)
        shown_outputs = {k: v for k, v in (outputs or {}).items() if v and Path(v).is_file()}
        return _create(round_id, status, step, shown_outputs or default_outputs(app, round_id))
    except Exception as exc:
        # Never a message: an exception's text could hold content from a response.
        log.warning("The dashboard artifacts of round %s were not updated: %s", round_id, type(exc).__name__)
        return {}


def _create(round_id: str, status: dict[str, Any], step: str, outputs: dict[str, str]) -> dict[str, Any]:
    from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact

    rows = [
        {
            "Høringspart": party["name"],
            "Status": str(party["status"]),  # already the Danish words of the log
            "Antal svar": party["responses"],
        }
        for party in status.get("parties") or []
    ]
    invited = int(status.get("invited") or 0)
    responses = int(status.get("responses") or 0)
    progress = min(100.0, 100.0 * responses / invited) if invited else 0.0
    create_table_artifact(
        rows,
        key=artifact_key(round_id, "parter"),
        description=f"Høringsparter og status for {round_id}",
    )
    create_progress_artifact(
        progress,
        key=artifact_key(round_id, "fremdrift"),
        description=f"{responses} svar ud af {invited} inviterede høringsparter",
    )
    markdown = summary_markdown(round_id, status, step, outputs)
    create_markdown_artifact(
        markdown, key=artifact_key(round_id, "oversigt"), description=f"Oversigt over høringen {round_id}"
    )
    return {"parties": rows, "progress": progress, "invited": invited, "responses": responses}
