"""Flow: the chain behind one response or remark (note → log row → stored raw message)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from prefect import flow, task

from flows.artifacts import tag_run
from flows.runtime import PLAIN, get_app, run_name
from flows.services import tracing


@task(name="follow the chain", **PLAIN)
def follow(round_id: str, reference: str, now: str | None) -> dict[str, Any]:
    chain = tracing.trace(get_app(now), round_id, reference)
    return {**asdict(chain), "intact": chain.intact, "lines": tracing.chain_lines(chain)}


@flow(name="hoering-trace", flow_run_name=run_name("trace"))
def trace(round_id: str, reference: str, now: str | None = None) -> dict[str, Any]:
    tag_run(round_id)
    return follow(round_id, reference, now)
