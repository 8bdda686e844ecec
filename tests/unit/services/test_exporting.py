"""Exporting through the fake unit of work: the case file holds every counted response and what was sent."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from flows.adapters.file_mailer import FileMailer
from flows.bootstrap import App
from flows.core.model import OutboxPurpose, OutboxState
from flows.core.outbox import Attempt, OutboxItem
from flows.core.outputs import bundle_paths, output_paths
from flows.services.exporting import NothingAssembledError, export
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import NOW, ROUND
from tests.unit.services.record_round import assembled_round


def _sent_by_file_mailer(app: App, uow: FakeUnitOfWork, tmp_path: Path) -> bytes:
    """One invitation sent through the embedded outbox, which keeps the very bytes it wrote."""
    item = OutboxItem(
        ROUND.id, OutboxPurpose.INVITATION, "hr@kk.example", "invitation:hr", "invitation", {}, 1
    )
    uow.outbox.add([item], domain="kk.example", at=NOW)
    (row,) = [r for r in uow.outbox.rows.values() if r.item.dedupe_key == "invitation:hr"]
    message = EmailMessage()
    message["Message-ID"], message["Subject"] = row.message_id, "Høring over strategien"
    message.set_content("Kære Handicaprådet\n\nHermed høringsbrevet.\n")
    result = FileMailer(tmp_path / "outbox").send(message, "hr@kk.example")
    sent_at = NOW + timedelta(minutes=5)
    uow.outbox.record(row.id, Attempt(OutboxState.SENT, None, False, 250, "", result.location, sent_at))
    assert result.location is not None
    return Path(result.location).read_bytes()


def _manifest(folder: Path) -> list[dict[str, str]]:
    documents: list[dict[str, str]] = json.loads((folder / "manifest.json").read_text("utf-8"))["documents"]
    return documents


def test_the_manifest_lists_every_received_response_with_its_original_bytes(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    assembled_round(app, uow)

    report = export(app, ROUND.id, tmp_path / "esdh")

    documents = _manifest(report.folder)
    emls = {d["file"]: d for d in documents if d["direction"] == "Indgående" and d["file"].endswith(".eml")}
    assert sorted(emls) == [
        f"indgaaende/{ROUND.id}-{n:04d}/{ROUND.id}-{n:04d}.eml"
        for n in sorted(r["number"] for r in uow.responses.rows.values())
    ]
    raws = {r["sha256"] for r in uow.responses.raws.values()}
    assert {d["sha256"] for d in emls.values()} == raws
    for name, doc in emls.items():
        assert hashlib.sha256((report.folder / name).read_bytes()).hexdigest() == doc["sha256"]
    assert {d["party"] for d in emls.values()} == {"Handicaprådet", "Ældrerådet", "ukendt@andet.example"}
    assert {d["title"] for d in documents if d["direction"] == "Internt"} == {
        "Høringsnotat (udkast)",
        "Høringslog",
    }
    assert report.documents == len(documents)
    (event,) = [e for e in uow.events.added if e.step == "export"]
    assert (event.kind, event.detail["manifest_sha256"]) == ("exported", report.manifest_sha256)


def test_a_message_sent_to_the_outbox_folder_is_in_the_case_file_as_the_bytes_written(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    assembled_round(app, uow)
    written = _sent_by_file_mailer(app, uow, tmp_path)

    report = export(app, ROUND.id, tmp_path / "esdh")

    outgoing = [d for d in _manifest(report.folder) if d["direction"] == "Udgående"]
    sent = outgoing[-1]  # in sending order: it went out after the world's invitations
    assert sent["file"] == f"udgaaende/{len(outgoing):04d}-invitation.eml"
    assert (report.folder / sent["file"]).read_bytes() == written
    # and the world's own invitations are their kept files too, not a new rendering
    earlier = sorted(uow.outbox.of_purpose(OutboxPurpose.INVITATION), key=lambda r: r.id)[:-1]
    for doc, row in zip(outgoing[:-1], earlier, strict=True):
        assert (report.folder / doc["file"]).read_bytes() == Path(row.location or "").read_bytes()
    assert (sent["title"], sent["party"]) == ("Høringsbrev til Handicaprådet", "Handicaprådet")


def test_export_before_assemble_says_what_to_do_and_writes_nothing(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    uow.rounds.rounds[ROUND.id] = ROUND

    with pytest.raises(NothingAssembledError, match=f"kør 'hoering assemble {ROUND.id}' først"):
        export(app, ROUND.id, tmp_path / "esdh")
    assert not (tmp_path / "esdh").exists()
    assert uow.events.added == []


def test_the_case_file_holds_every_volume_of_the_bundle_in_order(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    assembled_round(app, uow)
    bundle = output_paths(app.settings.out_dir(ROUND.id), ROUND.id).bundle
    volumes = bundle_paths(bundle, 3, 1)
    for part, path in enumerate(volumes, start=1):
        path.write_bytes(f"%PDF volume {part}".encode())

    report = export(app, ROUND.id, tmp_path / "esdh")

    internal = [d for d in _manifest(report.folder) if d["direction"] == "Internt"]
    shown = {d["title"]: d["file"] for d in internal if d["title"].startswith("Samlede")}
    assert shown == {f"Samlede høringssvar, del {k} af 3": volumes[k - 1].name for k in (1, 2, 3)}
    for path in volumes:
        assert (report.folder / path.name).read_bytes() == path.read_bytes()


def test_a_bundle_in_one_file_is_in_the_case_file_under_its_title(
    app: App, uow: FakeUnitOfWork, tmp_path: Path
) -> None:
    assembled_round(app, uow)
    bundle = output_paths(app.settings.out_dir(ROUND.id), ROUND.id).bundle
    bundle.write_bytes(b"%PDF the one bundle")

    report = export(app, ROUND.id, tmp_path / "esdh")

    titles = [d["title"] for d in _manifest(report.folder) if d["direction"] == "Internt"]
    assert "Samlede høringssvar" in titles and not any("del " in t for t in titles)
    assert (report.folder / bundle.name).read_bytes() == b"%PDF the one bundle"
