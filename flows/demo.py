"""Flow: a whole sample round end to end on the embedded default (``hoering demo``)."""

from __future__ import annotations

from typing import Any

from prefect import flow, task

from flows.adapters.mail_sources import maildir_path
from flows.assemble import assemble
from flows.close_round import close_round
from flows.collect import collect
from flows.invite import invite
from flows.open_round import open_round
from flows.remind import remind
from flows.runtime import PLAIN, get_app
from flows.services import demo_round
from flows.services.demo_round import CLOCK, ROUND_ID


@task(name="write the sample round", **PLAIN)
def write_sample_round() -> str:
    base = get_app().settings.resolved_data_dir / "sample"
    return str(demo_round.write_round(base).round_file)


@task(name="place sample responses in the inbox", **PLAIN)
def place_sample_responses() -> int:
    app = get_app()
    with app.uow() as uow:
        invitation_ids = uow.outbox.invitation_ids_by_party_name(ROUND_ID)
    return demo_round.place_responses(maildir_path(app.settings.inbox()), invitation_ids)


@flow(name="hoering-demo", flow_run_name=f"demo · {ROUND_ID}")
def demo(out_dir: str | None = None) -> dict[str, Any]:
    round_file = write_sample_round()
    open_round(round_file, now=CLOCK["open"])
    invite(ROUND_ID, now=CLOCK["invite"])
    place_sample_responses()
    collect(ROUND_ID, now=CLOCK["collect"])
    remind(ROUND_ID, now=CLOCK["remind"])
    close_round(ROUND_ID, now=CLOCK["close"])
    return assemble(ROUND_ID, out_dir, now=CLOCK["assemble"])
