"""Serve every hoering deployment from one long-running process: the simple default for one machine.

    PREFECT_API_URL=http://127.0.0.1:4200/api python deployments/serve.py

The process registers the deployments on the server, then polls for their runs and starts each
in its own subprocess. Stop it with Ctrl-C or SIGTERM; schedules stay active while it is down
(``pause_on_shutdown=False``), and runs that fell due meanwhile start as soon as it is back.
For several machines use ``deployments/prefect.yaml`` with a work pool instead (see README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# `python deployments/serve.py` puts deployments/ first on sys.path; the flows live beside it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prefect.deployments.runner import RunnerDeployment
from prefect.types.entrypoint import EntrypointType

from flows.schedules import DEPLOYMENTS

DESCRIPTIONS = {
    "open": "Registrér eller opdatér en høring fra dens rundefil, og planlæg dens kørsler.",
    "invite": "Send de invitationer, der ikke er sendt endnu.",
    "remind": "Send forfaldne påmindelser til parter uden svar. Planlægges ved hver påmindelse.",
    "collect": "Hent ny post og nye filer for høringen. Kører hvert kvarter, mens høringen er åben.",
    "close": "Ved fristen: sidste indsamling, derefter lukkes høringen. Planlægges ved fristen.",
    "assemble": "Skriv høringslog og udkast til høringsnotat. Planlagt efter lukning, og efter behov.",
    "status": "Høringen i ét overblik.",
    "extend": "Giv én høringspart en ny frist og send den besked.",
}

# One collection at a time: every round shares the inbox, and close runs a collection too.
CONCURRENCY = {"collect": 1, "close": 1}


def load_flows() -> dict[str, Any]:
    """The flows, imported here so that a missing module fails at start, with its name."""
    from flows.assemble import assemble
    from flows.close_round import close_round
    from flows.collect import collect
    from flows.extend import extend
    from flows.invite import invite
    from flows.open_round import open_round
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
    }


def build_deployments() -> list[RunnerDeployment]:
    """Every deployment, named as in ``flows.schedules.DEPLOYMENTS`` and in prefect.yaml.

    No deployment has a schedule of its own: the round's runs (reminders, close, assemble) and its
    15-minute collection are added per round by ``hoering open`` (flows/schedules.py), with the
    round id as parameter. Re-serving keeps those per-round schedules and scheduled runs.
    """
    deployments = []
    for step, flow in load_flows().items():
        flow_name, deployment_name = DEPLOYMENTS[step].split("/")
        assert flow.name == flow_name, f"{flow.name} != {flow_name}"
        deployments.append(
            flow.to_deployment(
                name=deployment_name,
                tags=["hoering", step],
                description=DESCRIPTIONS[step],
                concurrency_limit=CONCURRENCY.get(step),
                # The package is installed; a module path works whatever directory serve runs in.
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


def main() -> None:
    from prefect import serve

    os.environ.setdefault("DO_NOT_TRACK", "1")
    serve(
        *build_deployments(),
        pause_on_shutdown=False,  # the default would pause every round's schedule on a restart
        limit=int(os.environ.get("HOERING_SERVE_LIMIT", "4")),
    )


if __name__ == "__main__":
    main()
