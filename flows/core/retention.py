"""When a round's personal data is deleted, and whether it may be. Pure rules, no I/O.

The deletion date is the round's close plus its ``retention`` (an ISO 8601 duration; KLE's
general five years by default), counted on the Copenhagen calendar: a round closed on 24
October 2025 at 23.59 is deleted from 24 October 2030 at 23.59 local time, whatever the DST.
Archive before delete: a round is purged only when its case file was exported after the round
last changed.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flows.core.danish import COPENHAGEN, deadline_text
from flows.core.model import Round

_DURATION = re.compile(
    r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)


class RecordEvent(StrEnum):
    """The events (step, kind) export and purge record; the purge decides from them."""

    EXPORTED = "exported"  # step "export": the case file was written
    PURGE_STARTED = "purge_started"  # step "purge": the intent, before any file is deleted
    PURGED = "purged"  # step "purge": done, with what was deleted and how much


RECORD_STEPS = ("export", "purge")
"""Steps whose events are no change of the round (else every export would outdate itself)."""


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0  # weeks included
    seconds: int = 0


def parse_duration(text: str) -> Duration:
    """``P5Y``, ``P18M``, ``P1Y6M``, ``P2W``, ``PT36H`` …; ValueError for anything else."""
    found = _DURATION.match(text.strip().upper())
    if found is None or not any(found.groups()):
        msg = f"ikke en ISO 8601-varighed: {text!r}"
        raise ValueError(msg)
    y, mo, w, d, h, mi, s = (int(g) if g else 0 for g in found.groups())
    return Duration(years=y, months=mo, days=7 * w + d, seconds=3600 * h + 60 * mi + s)


def add_duration(moment: datetime, duration: Duration) -> datetime:
    """``moment`` plus ``duration`` on the Copenhagen calendar (29 February + P1Y is 28 February)."""
    local = moment.astimezone(COPENHAGEN)
    months = local.month - 1 + duration.months + 12 * duration.years
    year, month = local.year + months // 12, months % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    wall = local.replace(tzinfo=None, year=year, month=month, day=day) + timedelta(days=duration.days)
    return wall.replace(tzinfo=COPENHAGEN) + timedelta(seconds=duration.seconds)


def deletion_date(closed_at: datetime | None, retention: str) -> datetime | None:
    """Close plus retention; ``None`` while the round is open (the clock has not started)."""
    if closed_at is None:
        return None
    return add_duration(closed_at, parse_duration(retention))


def deletion_text(closed_at: datetime | None, retention: str) -> str:
    """The Danish line ``status`` and the log show."""
    when = deletion_date(closed_at, retention)
    if when is None:
        return f"Personoplysningerne slettes {retention} efter lukning (høringen er ikke lukket endnu)"
    return f"Personoplysningerne slettes {deadline_text(when)} ({retention} efter lukning)"


def retention_view(rnd: Round) -> dict[str, str | None]:
    """The round's deletion date for ``status --json`` and the line its text form shows."""
    when = deletion_date(rnd.closed_at, rnd.retention)
    return {
        "retention": rnd.retention,
        "deletion_date": when.isoformat() if when else None,
        "deletion": deletion_text(rnd.closed_at, rnd.retention),
    }


class Verdict(StrEnum):
    PURGE = "purge"
    NOT_DUE = "not_due"
    NOT_EXPORTED = "not_exported"
    CHANGED_SINCE_EXPORT = "changed_since_export"
    ALREADY_PURGED = "already_purged"


@dataclass(frozen=True)
class RoundRecord:
    """What the purge decides from, for one round."""

    round_id: str
    closed_at: datetime | None
    retention: str
    last_change: datetime
    last_export: datetime | None
    purged_at: datetime | None


def verdict(record: RoundRecord, now: datetime) -> Verdict:
    """Purge only a round past its date whose case file was exported after its last change."""
    if record.purged_at is not None:
        return Verdict.ALREADY_PURGED
    due = deletion_date(record.closed_at, record.retention)
    if due is None or now < due:
        return Verdict.NOT_DUE
    if record.last_export is None:
        return Verdict.NOT_EXPORTED
    if record.last_export < record.last_change:
        return Verdict.CHANGED_SINCE_EXPORT
    return Verdict.PURGE


def verdict_reason(record: RoundRecord, result: Verdict) -> str:
    """Why a round was left as it is, in the Danish the purge prints."""
    due = deletion_date(record.closed_at, record.retention)
    if result is Verdict.NOT_DUE:
        return "ikke lukket endnu" if due is None else f"slettes først {deadline_text(due)}"
    if result is Verdict.NOT_EXPORTED:
        return "sagsaktet er ikke eksporteret (kør 'hoering export' og arkivér det først)"
    if result is Verdict.CHANGED_SINCE_EXPORT:
        return (
            f"høringen er ændret ({deadline_text(record.last_change)}) efter seneste eksport "
            "(kør 'hoering export' igen og arkivér det)"
        )
    if result is Verdict.ALREADY_PURGED and record.purged_at is not None:
        return f"allerede slettet {deadline_text(record.purged_at)}"
    return ""
