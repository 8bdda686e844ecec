"""The public record on a real round (services, no Prefect): trace, export, purge.

One small pair of rounds (``tests/support/record_round.py``) per test; the purge tests run on
SQLite and on the PostgreSQL the test command starts.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from flows.adapters.db.tables import (
    AttachmentRow,
    EventRow,
    OutboxRow,
    PartyRow,
    RawMessageRow,
    RemarkRow,
    ResponseRow,
    StaffNoteRow,
)
from flows.bootstrap import App
from flows.services import assembling, exporting, purging, tracing
from flows.services.status import round_status
from tests.support import record_round as rr


@pytest.fixture
def built(tmp_path: Path) -> Iterator[App]:
    """A round of its own, for a test that changes it."""
    app = rr.build(tmp_path)
    yield app
    app.db.dispose()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """One round for the tests that only read it (and export it to folders of their own)."""
    app = rr.build(tmp_path_factory.mktemp("shared"))
    yield app
    app.db.dispose()


@pytest.fixture
def built_any_db(tmp_path: Path, database_url: str) -> Iterator[App]:
    app = rr.build(tmp_path, database_url)
    yield app
    app.db.dispose()


def counted_numbers(app: App, round_id: str = "runde-a") -> list[int]:
    return [r.number for r in assembling.build_assembly(app, round_id).responses]


# ---------------------------------------------------------------------------------- trace


def test_trace_follows_every_counted_response_to_a_stored_file_whose_sha256_matches(shared: App) -> None:
    """Each counted response: note → log row → raw file, and the file's bytes hash to the record."""
    numbers = counted_numbers(shared)
    assert len(numbers) == 3  # the organisation, the private person, "ingen bemærkninger"
    log = load_workbook(shared.settings.out_dir("runde-a") / "runde-a-hoeringslog.xlsx", read_only=True)
    sheet = [list(r) for r in log["Høringssvar"].iter_rows(values_only=True)]
    sha_column = sheet[0].index("SHA-256")
    for row, number in enumerate(numbers, start=2):
        chain = tracing.trace(shared, "runde-a", f"runde-a-{number:04d}")
        assert chain.path is not None
        on_disk = hashlib.sha256(Path(chain.path).read_bytes()).hexdigest()
        assert chain.sha256 == on_disk and chain.intact
        assert chain.log.startswith(f"Høringslog, ark »Høringssvar«, række {row} ")
        assert sheet[row - 1][sha_column] == on_disk  # the log's SHA-256 column is the same link
        assert chain.note.startswith("Høringsnotatet")
        assert chain.source.startswith("Maildir-filen ")
    person = tracing.trace(shared, "runde-a", "2.1")  # by a remark's number
    assert person.reference == "runde-a-0002"
    assert person.matched_by == "Jens Hansen, genkendt på afsenderadresse"
    assert "Bemærkninger«, række 3 (Nr. 2.1)" in person.log


def test_trace_of_a_set_aside_message_says_it_is_not_in_the_note(shared: App) -> None:
    chain = tracing.trace(shared, "runde-a", "runde-a-0004")
    assert chain.note.startswith("Ikke i notatet")
    assert "Til gennemsyn" in chain.log
    with pytest.raises(tracing.UnknownReferenceError):
        tracing.trace(shared, "runde-a", "runde-a-0099")


def test_the_quality_gate_reports_a_stored_message_changed_or_gone(built: App) -> None:
    """A raw file edited on disk, and one deleted: the gate names both responses."""
    first = tracing.trace(built, "runde-a", "runde-a-0001")
    second = tracing.trace(built, "runde-a", "runde-a-0002")
    assert first.path is not None and second.path is not None
    with Path(first.path).open("ab") as handle:
        handle.write(b"\n")
    Path(second.path).unlink()

    report = assembling.assemble(built, "runde-a")

    assert "den gemte råbesked mangler for høringssvar nr. 2" in report.quality_problems
    assert "den gemte råbesked for høringssvar nr. 1 svarer ikke til sin SHA-256" in report.quality_problems


# --------------------------------------------------------------------------------- export


def test_export_twice_gives_the_same_manifest_and_zip_and_the_checksums_pass(
    shared: App, tmp_path: Path
) -> None:
    out = tmp_path / "esdh"
    first = exporting.export(shared, "runde-a", out)
    manifest = (first.folder / "manifest.json").read_bytes()
    table = (first.folder / "manifest.csv").read_bytes()
    zipped = first.zip.read_bytes()

    second = exporting.export(shared, "runde-a", out)

    assert (second.folder / "manifest.json").read_bytes() == manifest
    assert (second.folder / "manifest.csv").read_bytes() == table
    assert second.zip.read_bytes() == zipped
    check = subprocess.run(
        ["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=second.folder, capture_output=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(second.zip) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert zf.read("runde-a-sagsakt/manifest.json") == manifest


def test_the_case_file_holds_every_document_received_and_sent(shared: App, tmp_path: Path) -> None:
    report = exporting.export(shared, "runde-a", tmp_path / "esdh")
    documents = json.loads((report.folder / "manifest.json").read_text(encoding="utf-8"))["documents"]
    by_direction: dict[str, list[dict[str, str]]] = {}
    for doc in documents:
        by_direction.setdefault(doc["direction"], []).append(doc)
        assert (doc["kle"], doc["facet"]) == ("27.00.00", "G01")
        assert hashlib.sha256((report.folder / doc["file"]).read_bytes()).hexdigest() == doc["sha256"]
    with shared.db.transaction() as session:
        raws = set(session.scalars(select(RawMessageRow.sha256).where(RawMessageRow.round_id == "runde-a")))
        sent = session.scalar(
            select(func.count()).where(OutboxRow.round_id == "runde-a", OutboxRow.sent_at.is_not(None))
        )
    emls = [d for d in by_direction["Indgående"] if d["file"].endswith(".eml")]
    assert {d["sha256"] for d in emls} == raws  # each received message, its original bytes
    pdfs = [d for d in by_direction["Indgående"] if d["role"] == "Gengivelse"]
    assert {d["attachment_of"] for d in pdfs} == {d["file"] for d in emls}
    (attachment,) = [d for d in by_direction["Indgående"] if d["role"] == "Bilag"]
    assert attachment["title"] == "bilag æøå.pdf" and attachment["party"] == "Ældrerådet"
    assert (report.folder / attachment["file"]).read_bytes() == rr.SHARED_PDF
    assert len(by_direction["Udgående"]) == sent == 3
    assert {d["title"] for d in by_direction["Internt"]} >= {"Høringsnotat (udkast)", "Høringslog"}
    assert all(d["date"].endswith(("+01:00", "+02:00")) for d in documents)


def test_each_message_sent_is_in_the_case_file_as_the_bytes_the_outbox_stored(
    shared: App, tmp_path: Path
) -> None:
    """A records system keeps what was sent: the embedded outbox's own ``.eml`` files, not a re-rendering."""
    report = exporting.export(shared, "runde-a", tmp_path / "esdh")
    with shared.db.transaction() as session:
        stored = session.scalars(
            select(OutboxRow.location)
            .where(OutboxRow.round_id == "runde-a", OutboxRow.sent_at.is_not(None))
            .order_by(OutboxRow.sent_at, OutboxRow.id)
        ).all()
    in_case_file = sorted((report.folder / "udgaaende").iterdir())
    assert len(in_case_file) == len(stored) == 3
    assert [p.read_bytes() for p in in_case_file] == [Path(str(p)).read_bytes() for p in stored]


def test_export_before_assemble_says_what_to_do(shared: App, tmp_path: Path) -> None:
    shutil.rmtree(shared.settings.out_dir("runde-b"))
    with pytest.raises(exporting.NothingAssembledError, match="kør 'hoering assemble runde-b' først"):
        exporting.export(shared, "runde-b", tmp_path / "esdh")


# ---------------------------------------------------------------------------------- purge


def snapshot(app: App, round_id: str) -> dict[str, object]:
    """What a purge may and may not change, read straight from the tables."""
    with app.db.transaction() as session:
        response_ids = select(ResponseRow.id).where(ResponseRow.round_id == round_id)
        raws = session.execute(
            select(RawMessageRow.path, RawMessageRow.state).where(RawMessageRow.round_id == round_id)
        ).all()
        return {
            "responses": session.scalar(select(func.count()).where(ResponseRow.round_id == round_id)),
            "texts": session.scalar(
                select(func.count()).where(
                    ResponseRow.round_id == round_id,
                    (ResponseRow.text != "") | (ResponseRow.full_text != "") | (ResponseRow.sender != ""),
                )
            ),
            "remark_texts": session.scalar(
                select(func.count()).where(RemarkRow.round_id == round_id, RemarkRow.text != "")
            ),
            "raw_files": sum(1 for path, _ in raws if path and Path(path).is_file()),
            "raw_rows": len(raws),
            "attachment_files": sum(
                1
                for (path,) in session.execute(
                    select(AttachmentRow.path).where(AttachmentRow.response_id.in_(response_ids))
                )
                if path and Path(path).is_file()
            ),
            "outbox_addresses": session.scalar(
                select(func.count()).where(OutboxRow.round_id == round_id, OutboxRow.address != "")
            ),
            "party_names": sorted(
                session.scalars(select(PartyRow.name).where(PartyRow.round_id == round_id))
            ),
            "party_emails": sum(
                len(e) for e in session.scalars(select(PartyRow.emails).where(PartyRow.round_id == round_id))
            ),
        }


def counts_view(app: App, round_id: str) -> dict[str, object]:
    """The counts and organisations' statuses ``status`` shows: what a purge must keep."""
    view = round_status(app, round_id)
    return {
        "responses": view["responses"],
        "late": view["late"],
        "needs_review": view["needs_review"],
        "organisations": [
            (p["name"], p["status"])
            for p in view["parties"]
            if p["name"] in {"Ældrerådet", "Stille Forening"}
        ],
        "private": sorted(
            p["status"] for p in view["parties"] if p["name"] not in {"Ældrerådet", "Stille Forening"}
        ),
    }


def test_purge_deletes_only_what_it_should(built_any_db: App, tmp_path: Path) -> None:
    """Counts before and after: runde-a's personal data gone, its counts kept; runde-b untouched."""
    app = built_any_db
    exporting.export(app, "runde-a")
    before_a, before_b = snapshot(app, "runde-a"), snapshot(app, "runde-b")
    kept_a = counts_view(app, "runde-a")
    assert before_a["texts"] == 4 and before_a["raw_files"] == 4 and before_a["attachment_files"] == 1

    early = purging.purge(rr.at(app, rr.BEFORE_RETENTION))
    assert early.purged == {} and snapshot(app, "runde-a") == before_a  # not yet: nothing happens

    report = purging.purge(rr.at(app, rr.AFTER_RETENTION))

    assert list(report.purged) == ["runde-a"]
    assert "ikke eksporteret" in report.left["runde-b"]
    after_a = snapshot(app, "runde-a")
    assert after_a == {
        "responses": before_a["responses"],
        "texts": 0,
        "remark_texts": 0,
        "raw_files": 0,
        "raw_rows": before_a["raw_rows"],
        "attachment_files": 0,  # gone from runde-a's rows; the shared blob stays for runde-b
        "outbox_addresses": 0,
        "party_names": sorted(["Ældrerådet", "Stille Forening", after_a["party_names"][0]]),  # type: ignore[index]
        "party_emails": 0,
    }
    assert "Jens Hansen" not in after_a["party_names"]  # type: ignore[operator]
    assert counts_view(app, "runde-a") == kept_a
    assert snapshot(app, "runde-b") == before_b  # another round: not one thing touched
    assert (app.settings.data_dir / "files").exists()
    for name in ("hoeringsnotat.docx", "hoeringslog.xlsx", "samlede-hoeringssvar.pdf", "sagsakt.zip"):
        assert not (app.settings.out_dir("runde-a") / f"runde-a-{name}").exists()
    assert (app.settings.out_dir("runde-b") / "runde-b-hoeringsnotat.docx").is_file()
    with app.db.transaction() as session:
        detail = session.scalar(select(EventRow.detail).where(EventRow.kind == "purged"))
        staff = session.scalar(select(func.count()).select_from(StaffNoteRow).where(StaffNoteRow.reply != ""))
    assert detail is not None
    assert (
        detail["raw_messages"],
        detail["attachments"],
        detail["responses"],
        detail["private_persons"],
    ) == (
        4,
        1,
        4,
        1,
    )
    assert staff == 0

    again = purging.purge(app)
    assert again.purged == {} and "allerede slettet" in again.left["runde-a"]
    assert snapshot(app, "runde-a") == after_a


def test_after_a_purge_assemble_says_the_texts_were_deleted_and_writes_no_note(built: App) -> None:
    exporting.export(built, "runde-a")
    purging.purge(rr.at(built, rr.AFTER_RETENTION), "runde-a")
    note = built.settings.out_dir("runde-a") / "runde-a-hoeringsnotat.docx"
    assert not note.exists()

    with pytest.raises(purging.TextsDeletedError, match="høringens tekster er slettet") as caught:
        assembling.assemble(built, "runde-a")

    assert "\n" not in str(caught.value)
    assert not note.exists()


def test_a_round_changed_after_its_export_is_left_whole_with_the_reason(built: App) -> None:
    exporting.export(built, "runde-a")
    assembling.assemble(built, "runde-a")  # a change after the export: the archive is out of date
    before = snapshot(built, "runde-a")

    report = purging.purge(rr.at(built, rr.AFTER_RETENTION), "runde-a")

    assert report.purged == {}
    assert "ændret" in report.left["runde-a"] and "efter seneste eksport" in report.left["runde-a"]
    assert snapshot(built, "runde-a") == before


def test_status_and_the_log_show_the_deletion_date(shared: App) -> None:
    view = round_status(shared, "runde-a")
    assert view["deletion_date"] == "2030-10-25T09:00:00+02:00"  # closed 25.10.2025 09.00 + P5Y
    assert view["deletion"].startswith("Personoplysningerne slettes fredag den 25. oktober 2030 kl. 09.00")
    log = load_workbook(shared.settings.out_dir("runde-a") / "runde-a-hoeringslog.xlsx", read_only=True)
    rows = list(log["Opbevaring"].iter_rows(values_only=True))
    assert rows[0] == ("Lukket", "Opbevaringsperiode", "Slettes", "Sletning")
    assert rows[1][1] == "P5Y" and rows[1][2].strftime("%Y-%m-%d %H:%M") == "2030-10-25 09:00"
