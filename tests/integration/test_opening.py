"""`open` on SQLite and PostgreSQL: a passed deadline and a closed round need --force, an
unchanged file is always a no-op, and the round file's new keys are stored on the round."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.adapters.db.rounds import active_parties, get_round
from flows.adapters.db.tables import EventRow, PartyRow, RoundRow
from flows.adapters.round_file import load_round_file
from flows.bootstrap import App
from flows.services.closing import mark_closed
from flows.services.opening import OpenRefusedError, open_round, spec_digest

ROUND = """\
id = "frist-runde"
title = "Strategi"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Rådet"
opens = 2025-10-16T00:00:00+02:00
deadline = {deadline}
reply_to = "hoering@kk.example"
documents = ["udkast.pdf"]
{extra}
[[parties]]
name = "Foreningen"
email = "forening@example.org"
{party_extra}
"""
DEADLINE = "2025-10-24T23:59:59+02:00"


def write(base: Path, deadline: str = DEADLINE, extra: str = "", party_extra: str = "") -> Path:
    base.mkdir(exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4 udkast")
    path = base / "runde.toml"
    path.write_text(ROUND.format(deadline=deadline, extra=extra, party_extra=party_extra), encoding="utf-8")
    return path


def at(app: App, moment: str) -> App:
    """The app with its clock standing at ``moment``."""
    fixed = datetime.fromisoformat(moment)
    app.clock = lambda: fixed
    return app


def test_a_round_whose_deadline_has_passed_is_refused_unless_forced(tmp_path: Path, any_db_app: App) -> None:
    """Opening after the deadline (by the clock) changes nothing; with force it is recorded and marked."""
    path = write(tmp_path / "r")
    at(any_db_app, "2025-10-25T08:00:00+02:00")

    with pytest.raises(OpenRefusedError, match=r"fristen for 'frist-runde' \(fredag den 24\. oktober 2025"):
        open_round(any_db_app, path)
    with any_db_app.db.transaction() as session:
        assert session.get(RoundRow, "frist-runde") is None

    report = open_round(any_db_app, path, force=True)

    assert (report.outcome, report.deadline_passed) == ("created", True)
    with any_db_app.db.transaction() as session:
        event = session.scalars(select(EventRow).where(EventRow.round_id == "frist-runde")).one()
        assert event.detail["forced"] is True


def test_an_unchanged_file_reopens_quietly_after_the_deadline(tmp_path: Path, any_db_app: App) -> None:
    """Re-running open on the same file is a no-op after the deadline too, and after close."""
    path = write(tmp_path / "r")
    open_round(at(any_db_app, "2025-10-15T14:00:00+02:00"), path)
    at(any_db_app, "2025-10-26T08:00:00+02:00")

    assert open_round(any_db_app, path).outcome == "unchanged"
    mark_closed(any_db_app, "frist-runde")
    assert open_round(any_db_app, path).outcome == "unchanged"


def test_a_change_after_the_deadline_or_to_a_closed_round_needs_force(
    tmp_path: Path, any_db_app: App
) -> None:
    """Moving the deadline into the past is refused; a closed round refuses any change, and with
    force the change is stored and the round stays closed. Moving a passed deadline forward is allowed."""
    path = write(tmp_path / "r")
    open_round(at(any_db_app, "2025-10-20T09:00:00+02:00"), path)

    write(tmp_path / "r", deadline="2025-10-19T23:59:59+02:00")
    with pytest.raises(OpenRefusedError, match="allerede overskredet"):
        open_round(any_db_app, path)

    at(any_db_app, "2025-10-26T08:00:00+02:00")  # after the deadline, not closed: staff extend it
    write(tmp_path / "r", deadline="2025-10-31T23:59:59+02:00")
    assert open_round(any_db_app, path).deadline_moved

    at(any_db_app, "2025-11-01T08:00:00+02:00")
    mark_closed(any_db_app, "frist-runde")
    write(tmp_path / "r", deadline="2025-11-30T23:59:59+02:00")
    with pytest.raises(OpenRefusedError, match=r"lukket.*--force"):
        open_round(any_db_app, path)

    assert open_round(any_db_app, path, force=True).outcome == "updated"
    with any_db_app.db.transaction() as session:
        rnd = get_round(session, "frist-runde")
    assert rnd.closed_at is not None
    assert rnd.deadline == datetime.fromisoformat("2025-11-30T23:59:59+02:00")


def test_the_new_keys_and_person_are_stored_on_the_round(tmp_path: Path, any_db_app: App) -> None:
    """note_layout, kle, facet and retention reach the round row (migration 0006), person the party."""
    extra = 'note_layout = "by_section"\nkle = "27.12.04"\nfacet = "G01"\nretention = "P10Y"\n'
    path = write(tmp_path / "r", extra=extra, party_extra="person = true")
    open_round(at(any_db_app, "2025-10-15T14:00:00+02:00"), path)

    with any_db_app.db.transaction() as session:
        rnd = get_round(session, "frist-runde")
        parties = active_parties(session, "frist-runde")
        stored = session.scalars(select(PartyRow.person)).all()
    assert (rnd.note_layout, rnd.kle, rnd.facet, rnd.retention) == ("by_section", "27.12.04", "G01", "P10Y")
    assert [p.person for p in parties] == [True]
    assert stored == [True]


def test_a_round_opened_before_the_new_keys_stays_unchanged(tmp_path: Path) -> None:
    """A file without the new keys keeps the digest it had before they existed: reopening it is a no-op."""
    spec = load_round_file(write(tmp_path / "r"))

    # The digest as the code before the new keys computed it (asdict of the same fields).
    fields = asdict(spec)
    for key in ("note_layout", "kle", "facet", "retention"):
        del fields[key]
    for party in fields["parties"]:
        del party["person"]
    old = hashlib.sha256(json.dumps(fields, default=str, sort_keys=True).encode()).hexdigest()

    assert spec_digest(spec) == old


def test_migration_0006_keeps_an_open_round_across_down_and_up(tmp_path: Path, any_db_app: App) -> None:
    """With a round and a party stored, 0006 goes down to 0005 and up again (a batch copy of the
    rounds table would be refused by SQLite's foreign keys); the round reads back with the defaults."""
    from alembic import command

    from flows.adapters.db.engine import alembic_config

    path = write(tmp_path / "r", extra='kle = "27.12.04"\n', party_extra="person = true")
    open_round(at(any_db_app, "2025-10-15T14:00:00+02:00"), path)
    config = alembic_config(any_db_app.db.engine)

    command.downgrade(config, "0005")
    command.upgrade(config, "head")

    with any_db_app.db.transaction() as session:
        rnd = get_round(session, "frist-runde")
        assert (rnd.note_layout, rnd.kle, rnd.retention) == ("by_party", None, "P5Y")
        assert [p.person for p in active_parties(session, "frist-runde")] == [False]
