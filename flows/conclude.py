"""Flow: mail every counted respondent the final note, once per address, through the outbox.

Rows are queued first (one per address, a unique key per round and address), then delivered;
a rerun queues nothing new and sends only what is still due (a temporary refusal's retry).
As ``invite``: mails left for a retry fail the run (one Danish line: how many, and from when a
rerun sends them), so a scheduled run shows that it did not do its whole job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.artifacts import tag_run
from flows.notify import alert_contact
from flows.runtime import PLAIN, RETRY, get_app, run_name
from flows.services import concluding


@task(name="queue the final note", **PLAIN)
def queue_conclusion(round_id: str, document: str, now: str | None) -> dict[str, int]:
    queuing = concluding.queue_conclusion(get_app(now), round_id, Path(document))
    return {
        "queued": queuing.queued,
        "recipients": queuing.recipients,
        "unverified": queuing.unverified,
        "bounced": queuing.bounced,
    }


@task(name="deliver the final note", **RETRY)
def deliver_conclusion(round_id: str, now: str | None) -> dict[str, Any]:
    report = concluding.deliver_conclusion(get_app(now), round_id)
    return {
        "sent": report.sent,
        "temp_failed": report.temp_failed,
        "perm_failed": report.perm_failed,
        "possible_duplicates": report.possible_duplicates,
    }


@flow(
    name="hoering-conclude",
    flow_run_name=run_name("conclude"),
    on_failure=[alert_contact],
    on_crashed=[alert_contact],
)
def conclude(round_id: str, document: str, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    result = {**queue_conclusion(round_id, document, now), **deliver_conclusion(round_id, now)}
    concluding.ensure_all_sent(get_app(now), round_id, result["sent"])
    return result


def conclusion_line(result: dict[str, Any]) -> str:
    """The command's one line, in Danish."""
    line = (
        f"Høringsnotatet: {result['sent']} sendt, {result['temp_failed']} udskudt, "
        f"{result['perm_failed']} fejlet, til i alt {result['recipients']} modtagere."
    )
    left = []
    if result["unverified"]:
        left.append(f"{result['unverified']} uverificerede afsendere")
    if result["bounced"]:
        left.append(f"{result['bounced']} adresser, hvor invitationen ikke blev leveret")
    return line + (f" Ikke sendt til {' og '.join(left)}." if left else "")
