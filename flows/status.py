"""Flow: the round in one view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.core.danish import deadline_text, short_datetime
from flows.runtime import PLAIN, get_app, run_name
from flows.schedule_view import read_round_schedule
from flows.services.status import round_status


@task(name="read the round's status", **PLAIN)
def read_status(round_id: str, now: str | None) -> dict[str, Any]:
    return round_status(get_app(now), round_id)


@task(name="read the round's runs on the server", **PLAIN)
def read_schedule(round_id: str, now: str | None) -> dict[str, Any]:
    with get_app(now).uow() as uow:
        rnd = uow.rounds.get(round_id)
    return read_round_schedule(round_id, rnd.deadline, rnd.reminders, rnd.opens)


@flow(name="hoering-status", flow_run_name=run_name("status"))
def status(round_id: str, now: str | None = None) -> dict[str, Any]:
    result = read_status(round_id, now)
    result["prefect"] = read_schedule(round_id, now)
    return result


STEP_WORDS = {"remind": "Påmindelse", "close": "Lukning", "assemble": "Høringslog og notat"}
STATE_WORDS = {
    "SCHEDULED": "planlagt",
    "PENDING": "venter",
    "RUNNING": "kører",
    "COMPLETED": "gennemført",
    "FAILED": "fejlet",
    "CRASHED": "brudt ned",
    "CANCELLED": "annulleret",
    "CANCELLING": "annulleres",
    "PAUSED": "sat på pause",
    "MISSING": "mangler på serveren",
    "PASSED": "ikke planlagt (tidspunktet var passeret)",
}


def status_lines(result: dict[str, Any]) -> list[str]:
    """The text form of ``hoering status``: Danish, Copenhagen time."""
    lines = [f"{result['title']} ({result['round']})"]
    deadline = deadline_text(_moment(result["deadline"]))
    if result.get("state") == "closed":
        lines.append(f"Høringen er lukket ({short_datetime(_moment(result['closed']))}). Frist: {deadline}")
    else:
        lines.append(f"Høringen er åben. Frist: {deadline}")
    if result.get("deletion_date"):  # once closed: close + retention
        lines.append(result["deletion"])
    for extension in result.get("extended_deadlines", []):
        lines.append(
            f"Forlænget frist: {extension['party']} til {deadline_text(_moment(extension['until']))}"
        )
    if result.get("next_reminder"):
        lines.append(f"Næste påmindelse: {deadline_text(_moment(result['next_reminder']))}")
    last = result.get("last_collect")
    lines.append(f"Seneste indsamling: {short_datetime(_moment(last)) if last else 'ingen endnu'}")
    lines += _prefect_lines(result.get("prefect") or {})
    if "sections" in result:
        lines.append(f"Udkastets afsnit: {result['sections']} fundet i høringens dokumenter")
    lines.append(
        f"Svar: {result['responses']} rettidige, {result['late']} for sene, "
        f"{result['needs_review']} til gennemsyn"
    )
    lines += [f"  {p['name']}: {p['status']} ({p['responses']})" for p in result["parties"]]
    if result.get("left_in_drop"):
        lines.append(f"Ikke indlæst fra drop-mappen: {len(result['left_in_drop'])}")
        lines += [f"  {entry['name']}: {entry['reason']}" for entry in result["left_in_drop"]]
    return lines


def _prefect_lines(view: dict[str, Any]) -> list[str]:
    if not view.get("server"):
        return ["Prefect-server: ingen (PREFECT_API_URL er tom). Intet kører af sig selv: "
                "kør hoering collect, remind og close selv."]  # fmt: skip
    if not view.get("reachable"):
        return [f"Prefect-server: {view['server']} – {view.get('reason')}"]
    lines = [f"Prefect-server: {view['server']}"]
    if view.get("reason"):
        return [*lines, f"  {view['reason']}"]
    schedule = view.get("collect_schedule")
    if schedule == "active":
        when = short_datetime(_moment(view["next_collect"])) if view.get("next_collect") else "snart"
        lines.append(f"  Indsamling hvert kvarter; næste {when}")
    elif schedule == "paused":
        lines.append("  Indsamling: sat på pause")
    elif schedule == "missing":
        lines.append("  Indsamling: ingen plan på serveren")
    for run in view.get("runs", []):
        state = (
            "forsinket" if run.get("state_name") == "Late" else STATE_WORDS.get(run["state"], run["state"])
        )
        lines.append(f"  {STEP_WORDS[run['step']]}: {short_datetime(_moment(run['at']))}, {state}")
    return lines


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value)
