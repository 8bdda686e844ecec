"""Serve every hoering deployment from one long-running process: the simple default for one machine.

    PREFECT_API_URL=http://127.0.0.1:4200/api python deployments/serve.py

The process registers the deployments on the server, checks that every open round still has
its collect schedule and its planned runs (recreating what is missing, with an event for each),
then polls for their runs and starts each in its own subprocess. Stop it with Ctrl-C or SIGTERM;
schedules stay active while it is down (``pause_on_shutdown=False``), and runs that fell due
meanwhile start as soon as it is back.

    python deployments/serve.py --check     # only the check, then exit (after `prefect deploy`)

For several machines use ``deployments/prefect.yaml`` with a work pool instead (see README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

# `python deployments/serve.py` puts deployments/ first on sys.path; the flows live beside it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from flows.schedules import DEPLOYMENTS, PURGE_CRON, PURGE_SLUG, TIMEZONE

DESCRIPTIONS = {
    "open": "Registrér eller opdatér en høring fra dens rundefil, og planlæg dens kørsler.",
    "invite": "Send de invitationer, der ikke er sendt endnu.",
    "remind": "Send forfaldne påmindelser til parter uden svar. Planlægges ved hver påmindelse.",
    "collect": "Hent ny post og nye filer for høringen. Kører hvert kvarter, mens høringen er åben.",
    "close": "Ved fristen: sidste indsamling, derefter lukkes høringen. Planlægges ved fristen.",
    "assemble": "Skriv høringslog og udkast til høringsnotat. Planlagt efter lukning, og efter behov.",
    "status": "Høringen i ét overblik.",
    "extend": "Giv én høringspart en ny frist og send den besked.",
    "purge": "Slet personoplysningerne i høringer, hvis slettedato er nået (kun eksporterede). Kører dagligt.",
    "conclude": "Send det endelige høringsnotat med tak til alle, hvis svar er talt med; én gang hver.",
    "process-batch": "Én batch af en indsamling, på en vilkårlig worker (når HOERING_WORK_POOL er sat).",
}

# One collection at a time: every round shares the inbox, and close runs a collection too.
CONCURRENCY = {"collect": 1, "close": 1}


def load_flows() -> dict[str, Any]:
    """The flows, imported here so that a missing module fails at start, with its name."""
    from flows.assemble import assemble
    from flows.close_round import close_round
    from flows.collect import collect
    from flows.conclude import conclude
    from flows.extend import extend
    from flows.invite import invite
    from flows.open_round import open_round
    from flows.process_batch import process_batch
    from flows.purge import purge
    from flows.remind import remind
    from flows.status import status

    return {
        "open": open_round,
        "invite": invite,
        "remind": remind,
        "collect": collect,
        "close": close_round,
        "assemble": assemble,
        "status": status,
        "extend": extend,
        "purge": purge,
        "conclude": conclude,
        "process-batch": process_batch,
    }


def build_deployments() -> list[RunnerDeployment]:
    """Every deployment, named as in ``flows.schedules.DEPLOYMENTS`` and in prefect.yaml.

    No deployment but purge has a schedule of its own: the round's runs (reminders, close, assemble) and its
    15-minute collection are added per round by ``hoering open`` (flows/schedules.py), with the
    round id as parameter.

    ``schedules`` is left out of what is sent to the server, not sent as an empty list.
    ``to_deployment`` always sets it to ``[]``, and Prefect 3.9's server then keeps the existing
    schedules only while every one of them has a slug: one schedule added in the dashboard
    without a slug, and a re-serve deletes every round's collect schedule. Keeping schedules on
    an empty list is also deprecated (``PREFECT_DEPLOYMENTS_CLEAR_SCHEDULES_ON_EMPTY``, see
    prefect/deployments/runner.py); an omitted field is the form Prefect documents as "keep".
    """
    deployments = []
    from prefect.schedules import Cron

    for step, flow in load_flows().items():
        flow_name, deployment_name = DEPLOYMENTS[step].split("/")
        assert flow.name == flow_name, f"{flow.name} != {flow_name}"
        if step == "purge":  # daily, for every round; no round adds schedules to it
            daily = Cron(PURGE_CRON, timezone=TIMEZONE, slug=PURGE_SLUG)
            deployments.append(
                flow.to_deployment(
                    name=deployment_name,
                    tags=["hoering", step],
                    description=DESCRIPTIONS[step],
                    schedules=[daily],
                    entrypoint_type=EntrypointType.MODULE_PATH,
                )
            )
            continue
        deployment = flow.to_deployment(
            name=deployment_name,
            tags=["hoering", step],
            description=DESCRIPTIONS[step],
            concurrency_limit=CONCURRENCY.get(step),
            # The package is installed; a module path works whatever directory serve runs in.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # Unset, so that registering never replaces the schedules the rounds added (see above).
        deployment.model_fields_set.discard("schedules")
        deployments.append(deployment)
    return deployments


def check_schedules() -> list[dict[str, Any]]:
    """Every open round's collect schedule and planned runs, recreated where missing."""
    from flows.runtime import get_app
    from flows.schedules import ensure_rounds_scheduled

    app = get_app()
    app.run_id = "serve"  # the events of the check say where they came from
    return ensure_rounds_scheduled(app)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve hoering's deployments.")
    parser.add_argument("--check", action="store_true", help="check the rounds' schedules, then exit")
    args = parser.parse_args(argv)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # hoering's own lines (the schedule check) next to Prefect's in the service log.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    own = logging.getLogger("flows")  # the one logger tree: flows.schedules writes the check's lines
    own.addHandler(handler)
    own.setLevel(logging.INFO)
    if args.check:
        try:
            reports = check_schedules()
        except Exception as exc:
            sys.stderr.write(f"serve.py --check: fejl: {type(exc).__name__}: {exc}\n")
            raise SystemExit(1) from None
        sys.stdout.write(json.dumps(reports, ensure_ascii=False, indent=2) + "\n")
        return

    from prefect import serve

    deployments = build_deployments()
    # Register first, so that the check below finds the deployments (serve registers them again,
    # which changes nothing), then put back whatever a round is missing before serving its runs.
    for deployment in deployments:
        deployment.apply()
    try:
        check_schedules()
    except Exception:
        # A round that cannot be checked must not stop every other round's runs.
        logging.getLogger("flows.serve").exception("The schedule check failed; serving anyway.")
    serve(
        *deployments,
        pause_on_shutdown=False,  # the default would pause every round's schedule on a restart
        limit=int(os.environ.get("HOERING_SERVE_LIMIT", "4")),
    )


if __name__ == "__main__":
    main()
