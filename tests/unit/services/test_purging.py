"""Purging through the fake unit of work: only an exported round past its date, in the crash-safe order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.adapters.case_file import remove_path
from flows.bootstrap import App
from flows.core.outputs import bundle_paths, output_paths
from flows.services import exporting, purging
from flows.services.purging import TextsDeletedError, ensure_not_purged, purge
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import NOW, ROUND
from tests.unit.services.record_round import assembled_round

CLOSED = NOW + timedelta(days=7)
PAST_DATE = CLOSED + timedelta(days=5 * 366)  # the default retention is five years


def _closed(app: App, uow: FakeUnitOfWork) -> list[Path]:
    """The round closed with three responses and its outputs; the raw files it stored."""
    assembled_round(app, uow)
    uow.rounds.rounds[ROUND.id] = replace(ROUND, closed_at=CLOSED)
    return [Path(r["path"]) for r in uow.responses.raws.values()]


def test_a_round_not_exported_is_left_whole_with_the_danish_reason(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    files = _closed(app, uow)
    app.clock = lambda: PAST_DATE

    report = purge(app)

    assert report.purged == {}
    assert report.left == {
        ROUND.id: "sagsaktet er ikke eksporteret (kør 'hoering export' og arkivér det først)"
    }
    assert all(f.is_file() for f in files)
    assert uow.records.erased == []
    assert [e for e in uow.events.added if e.step == "purge"] == []
    assert all(r["text"] for r in uow.responses.rows.values())


def test_a_round_changed_after_its_export_is_left_whole(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    files = _closed(app, uow)
    exporting.export(app, ROUND.id, tmp_path / "esdh")
    later = datetime.now(UTC) + timedelta(days=1)
    uow.events.add(ROUND.id, "assemble", "staff_edits", recorded_at=later)
    app.clock = lambda: PAST_DATE

    report = purge(app, ROUND.id)

    assert report.left[ROUND.id].startswith("høringen er ændret")
    assert all(f.is_file() for f in files) and uow.records.erased == []


def test_an_exported_round_past_its_date_loses_its_files_and_texts_and_keeps_the_counts(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    files = _closed(app, uow)
    report = exporting.export(app, ROUND.id, tmp_path / "esdh")
    app.clock = lambda: PAST_DATE

    purged = purge(app).purged[ROUND.id]

    assert not any(f.exists() for f in files)
    assert not report.folder.exists() and not report.zip.exists()
    assert [r["text"] for r in uow.responses.rows.values()] == ["", "", ""]
    assert len(uow.responses.rows) == 3  # the rows stay, so the counts do
    sizes = sum(r["size"] for r in uow.responses.raws.values())
    assert (purged["responses"], purged["raw_messages"], purged["raw_bytes"]) == (3, 3, sizes)
    # the round's note and log, and the case file's folder and zip; the 3 raw files and the 3
    # invitations the outbox kept
    assert (purged["output_files"], purged["files_removed_now"]) == (4, 3 + 3 + 4)
    started, done = [e for e in uow.events.added if e.step == "purge"]
    assert (started.kind, done.kind) == ("purge_started", "purged")
    assert done.detail == {k: v for k, v in purged.items() if k != "files_removed_now"}
    with pytest.raises(TextsDeletedError, match="høringens tekster er slettet"):
        ensure_not_purged(app, ROUND.id)
    assert purge(app).purged == {}  # purged once: a rerun does nothing


def test_the_intent_is_recorded_before_any_file_goes_and_the_texts_go_last(
    app: App, uow: FakeUnitOfWork, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGKILL at any file must find the intent on record and the texts still there to rerun from."""
    _closed(app, uow)
    exporting.export(app, ROUND.id, tmp_path / "esdh")
    app.clock = lambda: PAST_DATE
    seen: list[tuple[list[str], list[str], bool]] = []

    def remove(path: Path) -> int:
        kinds = [e.kind for e in uow.events.added if e.step == "purge"]
        seen.append((kinds, list(uow.records.erased), all(r["text"] for r in uow.responses.rows.values())))
        return remove_path(path)

    monkeypatch.setattr(purging, "remove_path", remove)

    purge(app)

    assert len(seen) == 3 + 3 + 4  # raw files, kept invitations, outputs
    assert set(map(repr, seen)) == {repr((["purge_started"], [], True))}
    assert [e.kind for e in uow.events.added if e.step == "purge"] == ["purge_started", "purged"]
    assert uow.records.erased == [ROUND.id]


def test_a_round_not_yet_due_is_only_counted(app: App, uow: FakeUnitOfWork, tmp_path: Path) -> None:
    files = _closed(app, uow)
    exporting.export(app, ROUND.id, tmp_path / "esdh")
    app.clock = lambda: CLOSED + timedelta(days=30)

    report = purge(app)

    assert (report.purged, report.left, report.not_due) == ({}, {}, 1)
    assert all(f.is_file() for f in files)


def test_purge_removes_every_volume_of_both_bundles_and_one_an_interrupted_run_left(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    _closed(app, uow)
    outputs = output_paths(app.settings.out_dir(ROUND.id), ROUND.id)
    volumes = bundle_paths(outputs.bundle, 3, 1)
    public = bundle_paths(outputs.public_bundle, 2, 1)
    for path in (*volumes, *public, outputs.public_note):
        path.write_bytes(b"%PDF")
    uow.events.add(
        ROUND.id,
        "assemble",
        "written",
        recorded_at=NOW,
        note=str(outputs.note),
        log=str(outputs.log),
        bundle=[str(p) for p in volumes[:2]],  # the third was written by a run that stopped before its event
        public=[str(outputs.public_note), *map(str, public)],
    )
    older = outputs.bundle  # what an assemble before volumes recorded: one path
    older.write_bytes(b"%PDF")
    uow.events.add(
        ROUND.id, "assemble", "written", recorded_at=NOW, note=str(outputs.note), bundle=str(older)
    )
    exporting.export(app, ROUND.id, tmp_path / "esdh")
    app.clock = lambda: PAST_DATE

    purge(app)

    assert not any(p.exists() for p in (*volumes, *public, outputs.public_note, older))
    assert list(outputs.note.parent.iterdir()) == []
