"""The ``hoering`` command: each subcommand runs its Prefect flow.

Errors end in one line (Danish for a case worker's mistakes) and a non-zero exit, never a
traceback. Prefect is configured before it is imported: analytics off, and with no server
configured its temporary server keeps its database under the data dir.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Høringer som Prefect-flows.")
NowOption = Annotated[
    str | None,
    typer.Option("--now", help="Kør, som om uret viste dette ISO-8601-tidspunkt (med UTC-offset)."),
]
_state: dict[str, Any] = {"now": None}
# sysexits.h EX_TEMPFAIL: nothing was wrong and nothing was done; the next run does the work.
COLLECT_RUNNING_EXIT = 75


def prepare_prefect_environment() -> None:
    """Quiet, offline-friendly Prefect defaults; explicit environment settings always win."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
    # Run logs still reach the dashboard; the terminal shows hoering's own one-line summary.
    if not os.environ.get("HOERING_VERBOSE"):
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    if not os.environ.get("PREFECT_API_URL"):
        data_dir = Path(os.environ.get("HOERING_DATA_DIR", "./var")).expanduser().resolve()
        os.environ.setdefault("PREFECT_HOME", str(data_dir / "prefect"))
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _now() -> str | None:
    value = _state["now"]
    return str(value) if value else None


def _parse_now(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--now skal være ISO-8601, fx 2025-10-25T08:00:00+02:00 ({value})") from exc
    if moment.tzinfo is None:
        msg = f"--now mangler UTC-offset, fx {value}+02:00"
        raise typer.BadParameter(msg)
    return moment.isoformat()


@app.callback()
def main_options(now: NowOption = None) -> None:
    _state["now"] = _parse_now(now) or _parse_now(os.environ.get("HOERING_NOW") or None)


def _run(step: str, call: Any, *, flow: bool = True) -> Any:
    import httpx

    from flows.core.errors import HoeringError
    from flows.runtime import start_temporary_server
    from flows.settings import redact_url

    try:
        if flow:
            start_temporary_server()  # one that dies with this command, even on a SIGKILL
        return call()
    except HoeringError as exc:
        typer.echo(f"hoering {step}: {exc}", err=True)
        raise typer.Exit(1) from None
    except httpx.TransportError as exc:
        # hoering's own network I/O is SMTP, IMAP and msal (requests): an httpx error that ends a
        # command is the Prefect API's (the operators' guide, §3b, says what then happened)
        server = redact_url(os.environ.get("PREFECT_API_URL") or "") or "Prefects midlertidige server"
        typer.echo(
            f"hoering {step}: Prefect-serveren svarer ikke ({server}; {type(exc).__name__}). "
            "Intet går tabt eller tælles dobbelt: kør kommandoen igen, når serveren svarer.",
            err=True,
        )
        raise typer.Exit(2) from None
    except Exception as exc:
        typer.echo(f"hoering {step}: fejl: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("open")
def open_cmd(
    round_file: Path,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Åbn eller ændr høringen, selv om fristen er overskredet eller den er lukket."
        ),
    ] = False,
) -> None:
    """Registrér en høring fra en rundefil (eller opdatér den)."""
    from flows.adapters.round_file import load_round_file

    path = round_file.resolve()
    # The file is checked before Prefect starts: a typo is reported in a second, not after the
    # temporary server's start-up. The flow checks it again (it may run on its own, from a deployment).
    _run("open", lambda: load_round_file(path), flow=False)
    from flows.open_round import open_round

    result = _run("open", lambda: open_round(str(path), now=_now(), force=force))
    words = {"created": "oprettet", "updated": "opdateret", "unchanged": "uændret"}
    typer.echo(
        f"Høringen {result['round_id']} er {words[result['outcome']]} ({result['parties']} høringsparter)."
    )
    if result.get("deadline_passed") and result["outcome"] != "unchanged":
        typer.echo("Bemærk: fristen er allerede overskredet (åbnet med --force).", err=True)


@app.command("invite")
def invite_cmd(round_id: str) -> None:
    """Send alle invitationer, der ikke er sendt endnu."""
    from flows.invite import invite

    result = _run("invite", lambda: invite(round_id, now=_now()))
    typer.echo(
        f"Invitationer: {result['sent']} sendt, {result['temp_failed']} udskudt, "
        f"{result['perm_failed']} fejlet."
    )


@app.command("remind")
def remind_cmd(round_id: str) -> None:
    """Send de påmindelser, der er forfaldne, til parter uden svar."""
    from flows.remind import remind

    result = _run("remind", lambda: remind(round_id, now=_now()))
    typer.echo(f"Påmindelser: {result['sent']} sendt.")


@app.command("collect")
def collect_cmd(round_id: str) -> None:
    """Hent ny post og nye filer, gem dem råt, læs og genkend dem."""
    from flows.collect import collect

    result = _run("collect", lambda: collect(round_id, now=_now()))
    if "skipped" in result:  # another collect holds the lease: one line, exit 75 (EX_TEMPFAIL)
        typer.echo(f"hoering collect: {result['skipped']}", err=True)
        raise typer.Exit(COLLECT_RUNNING_EXIT)
    typer.echo(
        f"Hentet {result['fetched']}, nye {result['stored']}, behandlet {result['processed']} "
        f"({result['responses']} svar, {result['set_aside']} lagt til side)."
    )
    if result.get("left_in_drop"):
        typer.echo(
            f"{result['left_in_drop']} element(er) i drop-mappen kunne ikke indlæses; "
            f"se 'hoering status {round_id}'",
            err=True,
        )


@app.command("close")
def close_cmd(round_id: str) -> None:
    """Efter fristen: sidste indsamling, derefter lukkes høringen."""
    from flows.close_round import close_round

    result = _run("close", lambda: close_round(round_id, now=_now()))
    typer.echo(f"Høringen {round_id} er lukket ({result['closed_at']}).")


@app.command("assemble")
def assemble_cmd(
    round_id: str,
    out: Annotated[Path | None, typer.Option("--out", help="Mappe til log og notat.")] = None,
) -> None:
    """Skriv høringslog (Excel), udkast til høringsnotat (Word) og samlede svar (PDF)."""
    from flows.assemble import assemble

    result = _run("assemble", lambda: assemble(round_id, str(out.resolve()) if out else None, now=_now()))
    typer.echo(result["log"])
    typer.echo(result["note"])
    for path in result["bundle"]:  # the PDF, or each of its volumes
        typer.echo(path)
    for problem in result["quality_problems"]:
        typer.echo(f"Kvalitetskontrol: {problem}", err=True)


@app.command("status")
def status_cmd(round_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Hvor høringen står: frist, påmindelser, planlagte kørsler, parter, svar, udbakke."""
    from flows.status import status, status_lines

    result = _run("status", lambda: status(round_id, now=_now()))
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    for line in status_lines(result):
        typer.echo(line)


@app.command("trace")
def trace_cmd(round_id: str, reference: str) -> None:
    """Kæden bag ét høringssvar eller én bemærkning: notat → log → gemt råbesked."""
    from flows.trace import trace

    result = _run("trace", lambda: trace(round_id, reference, now=_now()))
    for line in result["lines"]:
        typer.echo(line)


@app.command("export")
def export_cmd(
    round_id: str,
    out: Annotated[Path | None, typer.Option("--out", help="Mappe til sagsaktet.")] = None,
) -> None:
    """Skriv sagsaktet til ESDH: alle modtagne og sendte dokumenter med manifest og SHA256SUMS."""
    from flows.export import export

    result = _run("export", lambda: export(round_id, str(out.resolve()) if out else None, now=_now()))
    typer.echo(result["folder"])
    typer.echo(result["zip"])


@app.command("purge")
def purge_cmd(round_id: Annotated[str | None, typer.Argument()] = None) -> None:
    """Slet personoplysningerne i høringer, hvis slettedato er nået (kun eksporterede høringer)."""
    from flows.purge import purge

    result = _run("purge", lambda: purge(round_id, now=_now()))
    for line in result["lines"]:
        typer.echo(line)


@app.command("extend")
def extend_cmd(
    round_id: str,
    party: str,
    until: Annotated[str, typer.Option("--until", help="Ny frist, ISO-8601 med UTC-offset.")],
) -> None:
    """Giv én høringspart en ny frist og send den besked."""
    from flows.extend import extend

    deadline = _parse_now(until) or until
    result = _run("extend", lambda: extend(round_id, party, deadline, now=_now()))
    typer.echo(f"Ny frist registreret for {party}; {result['sent']} besked(er) sendt.")


@app.command("conclude")
def conclude_cmd(
    round_id: str,
    document: Annotated[Path, typer.Option("--document", help="Det endelige høringsnotat, der vedhæftes.")],
) -> None:
    """Send det endelige høringsnotat med tak til alle, hvis svar er talt med; én gang hver."""
    from flows.conclude import conclude, conclusion_line

    result = _run("conclude", lambda: conclude(round_id, str(document.resolve()), now=_now()))
    typer.echo(conclusion_line(result))


@app.command("demo")
def demo_cmd(
    out: Annotated[Path | None, typer.Option("--out", help="Mappe til log og notat.")] = None,
) -> None:
    """Kør en hel høring fra ende til anden på den indbyggede standardopsætning."""
    # The demo always runs on the embedded default, in its own data dir, whatever is configured.
    data_dir = Path(os.environ.get("HOERING_DATA_DIR", "./var")).expanduser().resolve()
    for name in (
        "HOERING_DATABASE_URL",
        "HOERING_SMTP_URL",
        "HOERING_INBOX_URL",
        "HOERING_DROP_DIR",
        "HOERING_NOW",
    ):
        os.environ.pop(name, None)
    os.environ["HOERING_DATA_DIR"] = str(data_dir / "demo")
    from flows.core.outputs import bundle_labels
    from flows.demo import demo

    result = _run("demo", lambda: demo(str(out.resolve()) if out else None))
    typer.echo(f"Høringslog:  {result['log']}")
    typer.echo(f"Høringsnotat: {result['note']}")
    for label, path in bundle_labels("Samlede høringssvar", result["bundle"]).items():
        typer.echo(f"{label}: {path}")
    note, *bundle = result.get("public") or [None]
    if note:
        typer.echo(f"Offentligt notat: {note}")
        for label, path in bundle_labels("Offentlige svar", bundle).items():
            typer.echo(f"{label}: {path}")


def main() -> None:
    prepare_prefect_environment()
    # hoering's own warnings in plain words; Prefect's INFO lines go to the dashboard, not here.
    handler = logging.StreamHandler()
    handler.setLevel(logging.INFO if os.environ.get("HOERING_VERBOSE") else logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    own = logging.getLogger("flows")
    own.addHandler(handler)
    own.setLevel(logging.INFO)
    app()
