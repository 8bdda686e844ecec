"""Deletion on time: the personal data of rounds past their deletion date, once archived.

For each round past its date (close + ``retention``) whose case file was exported after the
round last changed, in this order, so that a purge killed at any point finishes on its rerun:

1. record the intent (event ``purge_started``, with what is about to go and how much);
2. delete the files: raw messages, attachments, sent ``.eml`` files, the round's outputs and
   case files (a file already gone is no error; a blob another round still uses is kept);
3. in one transaction: null the texts, addresses and private persons' names, and record the
   event ``purged`` (what, how much, when).

The counts are read from the database before step 3 changes it, so a rerun records the same.
Kept: the round, its responses' rows (so its counts), the organisations' names and statuses.
A round not exported (or changed since) is left whole and named with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from flows.adapters.case_file import remove_path
from flows.adapters.db.unit_of_work import UnitOfWork
from flows.adapters.pdf_bundle import bundle_files
from flows.bootstrap import App
from flows.core.danish import deadline_text
from flows.core.errors import HoeringError, UnknownRoundError
from flows.core.outputs import output_paths
from flows.core.retention import RecordEvent, RoundRecord, Verdict, verdict, verdict_reason


class TextsDeletedError(HoeringError):
    """The round was purged: there is nothing left to write a note or a case file from."""

    def __init__(self, round_id: str, when: datetime) -> None:
        super().__init__(
            f"høringens tekster er slettet {deadline_text(when)} (opbevaringsfristen for "
            f"{round_id} udløb); der skrives intet notat eller sagsakt"
        )


@dataclass
class PurgeReport:
    purged: dict[str, dict[str, int]] = field(default_factory=dict)
    left: dict[str, str] = field(default_factory=dict)  # round → why it was left whole
    not_due: int = 0


def ensure_not_purged(app: App, round_id: str) -> None:
    with app.uow() as uow:
        done = uow.records.latest_event(round_id, "purge", RecordEvent.PURGED.value)
    if done is not None:
        raise TextsDeletedError(round_id, done[0])


def purge(app: App, round_id: str | None = None) -> PurgeReport:
    report = PurgeReport()
    now = app.now()
    with app.uow() as uow:
        records = uow.records.round_records(round_id)
    if round_id is not None and not records:
        raise UnknownRoundError(round_id)
    for item in records:
        result = verdict(item, now)
        if result is Verdict.PURGE:
            report.purged[item.round_id] = purge_round(app, item)
        elif result is Verdict.NOT_DUE and round_id is None:
            report.not_due += 1
        else:
            report.left[item.round_id] = verdict_reason(item, result)
    return report


def purge_round(app: App, item: RoundRecord) -> dict[str, int]:
    round_id = item.round_id
    with app.uow() as uow:
        plan = uow.records.purge_plan(round_id)
        outputs = _outputs(uow, round_id)
    with app.uow() as uow:  # 1: the intent, before any file goes
        uow.events.add(
            round_id, "purge", RecordEvent.PURGE_STARTED.value, recorded_at=_moment(app), **plan.counts
        )
    removed = 0  # 2: the files (a rerun finds fewer, and says so only here)
    for name in (*plan.raw_files, *plan.attachment_files, *plan.outbox_files, *outputs):
        removed += remove_path(Path(name))
    counts = {**plan.counts, "output_files": len(outputs)}
    with app.uow() as uow:  # 3: the columns and the record of it, together
        uow.records.erase_round(round_id)
        uow.events.add(round_id, "purge", RecordEvent.PURGED.value, recorded_at=_moment(app), **counts)
    return {**counts, "files_removed_now": removed}


def _outputs(uow: UnitOfWork, round_id: str) -> list[str]:
    """The round's own outputs that hold texts: the files assemble and export wrote, and every
    volume of the bundles beside a note they wrote (one an interrupted assemble left too)."""
    found: set[str] = set()
    for detail in uow.records.event_details(round_id, "assemble", "written"):
        found.update(str(detail[k]) for k in ("log", "note") if detail.get(k))
        found.update(_paths(detail.get("bundle")))  # a list of its volumes; one path before them
        found.update(str(path) for path in detail.get("public") or ())
        if detail.get("note"):
            outputs = output_paths(Path(str(detail["note"])).parent, round_id)
            found.update(
                str(path) for path in (*bundle_files(outputs.bundle), *bundle_files(outputs.public_bundle))
            )
    for detail in uow.records.event_details(round_id, "export", RecordEvent.EXPORTED.value):
        found.update(str(detail[k]) for k in ("folder", "zip") if detail.get(k))
    return sorted(found)


def _paths(value: object) -> list[str]:
    if not value:
        return []
    return [str(path) for path in value] if isinstance(value, list) else [str(value)]


def _moment(app: App) -> datetime:
    """The real moment, or the service clock when it is later (replays run in the future)."""
    return max(datetime.now(UTC), app.now())


def purge_lines(report: PurgeReport) -> list[str]:
    """The Danish summary ``hoering purge`` prints."""
    lines = []
    for round_id, counts in report.purged.items():
        lines.append(
            f"{round_id}: slettet – {counts['raw_messages']} råbeskeder, {counts['attachments']} bilag, "
            f"{counts['sent_files']} sendte filer, tekster og adresser i {counts['responses']} svar, "
            f"{counts['private_persons']} privatpersoners navne ({counts['raw_bytes'] + counts['attachment_bytes']} byte)"
        )
    for round_id, reason in report.left.items():
        lines.append(f"{round_id}: ikke slettet – {reason}")
    if report.not_due:
        lines.append(f"{report.not_due} høring(er) har endnu ikke nået deres slettedato")
    if not lines:
        lines.append("Ingen høringer at slette.")
    return lines
