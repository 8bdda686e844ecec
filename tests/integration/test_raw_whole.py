"""Raw means whole, or refused out loud (issue 17, points 3 and 8).

A message or dropped file larger than the parse limit is stored whole (same sha256, same size),
listed in `Til gennemsyn` with its real size and not counted until staff include it; anything in
the drop folder that cannot be collected (a symlink, a folder, a fifo) is never followed, and is
shown by `status` and in the log with the reason. Big files are sparse, so they cost no disk to
make; memory is measured with tracemalloc (Python's own allocations, where a whole copy would
show).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from flows.adapters.db.tables import RawMessageRow, ResponseRow
from flows.adapters.dropped import too_large_reason
from flows.bootstrap import App
from flows.services import assembling, collecting, ingesting
from flows.services.status import round_status
from tests.integration.conftest import ImapMailbox
from tests.integration.test_mail_round import mail, make_round
from tests.integration.test_round_lifecycle import collect, make_app

MIB = 1024 * 1024
# A whole copy of a 70 MiB item would be 70 MiB here; chunks and heads are at most a few MiB.
MEMORY_BOUND = 16 * MIB


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MIB):
            digest.update(chunk)
    return digest.hexdigest()


def sparse_file(path: Path, head: bytes, size: int) -> Path:
    """``head`` followed by zeros up to ``size`` bytes, written as a hole (costs no disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def big_mail(app: App, size: int) -> Path:
    head = (
        b"Received: by mx.kk.example; Mon, 20 Oct 2025 10:00:00 +0200\r\n"
        b"From: aeldre@raad.example\r\nTo: hoering@kk.example\r\n"
        b"Subject: SV: [H\xc3\xb8ring test-runde] med bilag\r\nMessage-ID: <stor@raad.example>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Se vores bem\xc3\xa6rkninger.\r\n"
    )
    inbox = app.settings.resolved_data_dir / "inbox" / "new"
    delivered = datetime.fromtimestamp(1760947200, tz=UTC)  # the Received stamp above
    if app.now() < delivered:  # the clock moves on as mail arrives: a collect never sees the future
        app.clock = lambda: delivered + timedelta(minutes=1)
    return sparse_file(inbox / "1760947200.stor.host", head, size)


def review_rows(log: Path) -> list[dict[str, object]]:
    sheet = load_workbook(log)["Til gennemsyn"]
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]


def the_raw(app: App) -> RawMessageRow:
    with app.db.transaction() as session:
        [raw] = session.scalars(select(RawMessageRow)).all()
        session.expunge(raw)
        return raw


def test_a_70_mib_maildir_message_is_stored_whole_listed_and_not_counted(tmp_path: Path) -> None:
    """Before: stored cut to 64 MiB, size 64 MiB + 1, counted as a response. Now: the stored bytes
    are the file's (sha256 and size), `Til gennemsyn` lists it with "70,0 MB", status counts no
    response, and neither fetch nor processing holds a copy of it in memory."""
    app = make_app(tmp_path)
    source = big_mail(app, 70 * MIB)

    tracemalloc.start()
    try:
        collecting.fetch(app)
        _, fetch_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        ingesting.process_batch(app, "test-runde", collecting.pending_raw_ids(app))
        _, process_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    raw = the_raw(app)
    assert (raw.size, raw.sha256) == (70 * MIB, sha256_of(source))
    assert sha256_of(Path(raw.path)) == raw.sha256 and Path(raw.path).stat().st_size == 70 * MIB
    assert fetch_peak < MEMORY_BOUND and process_peak < MEMORY_BOUND
    status = round_status(app, "test-runde")
    assert (status["responses"], status["late"], status["needs_review"]) == (0, 0, 1)
    report = assembling.assemble(app, "test-runde", tmp_path / "out")
    [row] = review_rows(report.log)
    assert row["Afsender"] == "aeldre@raad.example"
    assert row["Årsag"] == (
        "For stor til at læse automatisk (70,0 MB) – gemt uændret; afgør om den skal medtages"
    )
    assert row["Høringspart"] == "Ældrerådet"  # the sender was matched: the hint for staff
    assert report.counted == 0


def test_staff_include_a_too_large_message_and_it_counts(tmp_path: Path) -> None:
    """`Medtag` on the oversized item makes it a counted response of its party, with a remark that
    says its text is in the stored message (the limit is lowered so the file stays small)."""
    app = make_app(tmp_path)
    app.settings.max_message_bytes = 2 * MIB
    big_mail(app, 3 * MIB)
    collect(app)
    first = assembling.assemble(app, "test-runde", tmp_path / "out")
    assert (first.counted, first.review) == (0, 1)

    book = load_workbook(first.log)
    sheet = book["Til gennemsyn"]
    header = [c.value for c in sheet[1]]
    sheet.cell(2, header.index("Beslutning") + 1, "Medtag")
    book.save(first.log)
    second = assembling.assemble(app, "test-runde", tmp_path / "out")

    assembly = assembling.build_assembly(app, "test-runde")
    assert second.counted == 1
    assert [r.party for r in assembly.responses] == ["Ældrerådet"]
    assert [m.text for m in assembly.remarks] == [ingesting.TOO_LARGE_TEXT]
    assert round_status(app, "test-runde")["responses"] == 1


def test_a_70_mb_dropped_file_is_stored_whole_and_listed(tmp_path: Path) -> None:
    """Before: a dropped file over 64 MB was skipped with nothing told. Now it is stored whole,
    moved to indlæst/, listed with its size and not counted; fetch holds no copy of it."""
    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    source = sparse_file(drop / "brev fra rådet.pdf", b"%PDF-1.4\n", 70_000_000)
    expected = sha256_of(source)

    tracemalloc.start()
    try:
        collecting.fetch(app)
        _, fetch_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ingesting.process_batch(app, "test-runde", collecting.pending_raw_ids(app))

    raw = the_raw(app)
    assert (raw.size, raw.sha256, sha256_of(Path(raw.path))) == (70_000_000, expected, expected)
    assert fetch_peak < MEMORY_BOUND
    assert not source.exists() and (drop / "indlæst" / "brev fra rådet.pdf").exists()
    status = round_status(app, "test-runde")
    assert (status["responses"], status["needs_review"], status["left_in_drop"]) == (0, 1, [])
    [row] = review_rows(assembling.assemble(app, "test-runde", tmp_path / "out").log)
    assert row["Emne"] == "brev fra rådet.pdf"
    assert str(row["Årsag"]).startswith("For stor til at læse automatisk (66,8 MB) – gemt uændret")


def test_links_folders_and_fifos_in_drop_are_refused_and_shown(tmp_path: Path) -> None:
    """Before: a symlink in drop/ was followed and its target copied into the raw store; folders
    and fifos were skipped without a word. Now none is opened; each is named with its reason in
    status (text and JSON) and in `Til gennemsyn`; the link and its target are left alone."""
    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    secret = tmp_path / "hemmelig.txt"
    secret.write_text("en anden rundes svar", encoding="utf-8")
    (drop / "svar.txt").symlink_to(secret)
    (drop / "mappe").symlink_to(tmp_path, target_is_directory=True)
    (drop / "undermappe").mkdir()
    os.mkfifo(drop / "rør")

    collect(app)

    with app.db.transaction() as session:
        assert session.scalars(select(RawMessageRow)).all() == []
    assert secret.read_text(encoding="utf-8") == "en anden rundes svar"
    assert (drop / "svar.txt").is_symlink() and (drop / "mappe").is_symlink()
    status = round_status(app, "test-runde")
    shown = {e["name"]: e["reason"] for e in json.loads(json.dumps(status))["left_in_drop"]}
    assert set(shown) == {"svar.txt", "mappe", "undermappe", "rør"}
    assert shown["svar.txt"].startswith("Genvej (symbolsk link) – ikke indlæst")
    assert shown["mappe"].startswith("Genvej (symbolsk link)")
    assert shown["undermappe"].startswith("Mappe – ikke indlæst")
    assert shown["rør"].startswith("Ikke en almindelig fil")
    assert status["needs_review"] == 4
    rows = review_rows(assembling.assemble(app, "test-runde", tmp_path / "out").log)
    assert {(r["Emne"], r["Årsag"]) for r in rows} == set(shown.items())
    assert {r["Afsender"] for r in rows} == {"Drop-mappen"}


def test_hostile_file_names_in_drop_are_collected_and_shown_safely(tmp_path: Path) -> None:
    """Names with a newline, a right-to-left override, bytes that are not UTF-8, or 250 bytes
    are collected; what is stored and shown has none of those characters (before: a non-UTF-8
    name could not be stored at all and stopped the collect)."""
    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    names = [
        b"linje1\nlinje2.pdf",
        "fil\u202efdp.exe.pdf".encode(),
        b"bad-\xff\xfe.pdf",
        b"x" * 246 + b".pdf",
    ]
    for n, name in enumerate(names):
        (drop / os.fsdecode(name)).write_bytes(b"%%PDF-1.4 brev %d" % n)
    (drop / os.fsdecode(b"link-\xff\n")).symlink_to(tmp_path)

    collect(app)
    collect(app)  # a second run after the move changes nothing

    with app.db.transaction() as session:
        stored = sorted(session.scalars(select(RawMessageRow.source_name)))
        subjects = sorted(session.scalars(select(ResponseRow.subject)))
    assert len(stored) == 4
    assert "linje1linje2.pdf" in stored and "filfdp.exe.pdf" in stored and "bad-\ufffd\ufffd.pdf" in stored
    assert all(len(s) <= 120 and s.endswith(".pdf") for s in stored)
    assert subjects == sorted(stored)
    assert sorted(os.fsencode(p.name) for p in (drop / "indlæst").iterdir()) == sorted(names)
    status = round_status(app, "test-runde")
    assert [e["name"] for e in status["left_in_drop"]] == ["link-\ufffd"]
    json.dumps(status, ensure_ascii=False).encode("utf-8")  # no lone surrogates reach the JSON
    rows = review_rows(assembling.assemble(app, "test-runde", tmp_path / "out").log)
    assert "link-\ufffd" in {r["Emne"] for r in rows}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file, so no file is unreadable to it")
def test_an_unreadable_dropped_file_is_shown_and_does_not_stop_the_collect(tmp_path: Path) -> None:
    """Before: a file the service may not read raised and failed the whole collect."""
    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "låst.pdf").write_bytes(b"%PDF-1.4")
    (drop / "låst.pdf").chmod(0)
    (drop / "åben.pdf").write_bytes(b"%PDF-1.4 brev")

    collect(app)

    status = round_status(app, "test-runde")
    assert [e["name"] for e in status["left_in_drop"]] == ["låst.pdf"]
    assert status["left_in_drop"][0]["reason"].startswith("Filen kan ikke læses (ingen adgang)")
    assert (drop / "indlæst" / "åben.pdf").exists()


@pytest.mark.imap
def test_a_large_imap_message_is_stored_whole_and_held_for_review(
    tmp_path: Path, imap_server: ImapMailbox
) -> None:
    """Before: a message over the limit was stored as its headers plus a marker, and counted as an
    empty response. Now a 10 MB message (over the 8 MiB streaming threshold, and over the parse
    limit lowered to 4 MiB) is streamed whole from Dovecot, listed with its size, not counted."""
    app = make_round(tmp_path, None, imap_server, max_message_bytes=4 * MIB)
    data = mail(
        "stor",
        "aeldre@raad.example",
        "Se bilaget.",
        attachments=[("bilag.bin", os.urandom(7_400_000), "application/octet-stream")],
    )
    imap_server.append(data)

    tracemalloc.start()
    try:
        collecting.fetch(app)
        _, fetch_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    ingesting.process_batch(app, "test-runde", collecting.pending_raw_ids(app))

    raw = the_raw(app)
    assert raw.size > 8 * MIB
    assert (raw.size, raw.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert sha256_of(Path(raw.path)) == raw.sha256
    assert fetch_peak < len(data)  # chunks of 4 MiB, never the whole message in one piece
    status = round_status(app, "test-runde")
    assert (status["responses"], status["needs_review"]) == (0, 1)
    with app.db.transaction() as session:
        [response] = session.scalars(select(ResponseRow)).all()
        assert response.kind == "unreadable"
        assert response.review_reason == too_large_reason(len(data))


def test_collect_exits_0_and_the_command_line_shows_what_drop_left(tmp_path: Path) -> None:
    """Through `hoering`: collect exits 0 but says on stderr that something was left; `status`
    names it with the reason, in text and in --json (before: nothing was said anywhere)."""
    from tests.integration.test_cli import run

    app = make_app(tmp_path)  # the round opened in tmp_path/var, the data dir `run` gives hoering
    drop = app.settings.resolved_drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "svar.pdf").symlink_to(tmp_path / "round" / "udkast.pdf")
    now = ["--now", "2025-10-16T09:00:00+02:00"]

    collected = run([*now, "collect", "test-runde"], tmp_path)
    text = run([*now, "status", "test-runde"], tmp_path)
    as_json = run([*now, "status", "test-runde", "--json"], tmp_path)

    assert collected.returncode == 0, collected.stderr
    assert "1 element(er) i drop-mappen kunne ikke indlæses" in collected.stderr
    assert "svar.pdf" not in collected.stderr  # names stay out of logs
    assert text.returncode == 0
    assert "Ikke indlæst fra drop-mappen: 1" in text.stdout
    assert "  svar.pdf: Genvej (symbolsk link) – ikke indlæst" in text.stdout
    [entry] = json.loads(as_json.stdout)["left_in_drop"]
    assert entry["name"] == "svar.pdf" and entry["reason"].startswith("Genvej")
    assert (drop / "svar.pdf").is_symlink()


def test_a_dropped_file_swapped_for_a_link_before_it_is_stored_is_left_and_shown(tmp_path: Path) -> None:
    """Listed as a regular file, then replaced by a symlink before its bytes are streamed: the link
    is not followed, nothing is stored or moved, and status then shows the link."""
    from flows.adapters.drop_source import DropSource

    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    sparse_file(drop / "brev.pdf", b"%PDF-1.4\n", 3 * MIB)
    secret = tmp_path / "hemmelig.txt"
    secret.write_bytes(b"en anden rundes svar")

    with DropSource(drop, app.now) as source:
        [batch] = list(source.batches(None, 10))
        (drop / "brev.pdf").unlink()
        (drop / "brev.pdf").symlink_to(secret)
        stored = collecting.store_batch(app, batch)
        source.acknowledge(batch)

    assert (stored, batch.messages) == (0, [])
    assert any("kunne ikke åbnes igen" in note for note in batch.notes)
    assert (drop / "brev.pdf").is_symlink() and not (drop / "indlæst" / "brev.pdf").exists()
    assert [e["name"] for e in round_status(app, "test-runde")["left_in_drop"]] == ["brev.pdf"]


def test_a_dropped_file_of_unknown_type_is_kept_and_says_why(tmp_path: Path) -> None:
    """A dropped picture or unknown file type is stored and listed with the reason that no text
    could be read (before: listed only as an unknown sender, with no word about the file)."""
    from flows.adapters.dropped import NO_TEXT

    app = make_app(tmp_path)
    drop = app.settings.resolved_drop_dir
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(200))

    collect(app)

    [row] = review_rows(assembling.assemble(app, "test-runde", tmp_path / "out").log)
    assert row["Emne"] == "foto.jpg"
    assert NO_TEXT in str(row["Årsag"])


KILLED_MID_STREAM = """
import sys, time
from pathlib import Path
from flows.adapters import maildir_source
from flows.bootstrap import bootstrap
from flows.services import collecting
from flows.settings import Settings

real = maildir_source.file_chunks

def stalls(path, identity):
    chunks = real(path, identity)
    def gen():
        yield next(chunks)
        Path(sys.argv[2]).write_text("mid-stream")
        time.sleep(600)  # killed here, with part of the message in the store's tmp file
    return gen()

maildir_source.file_chunks = stalls
collecting.fetch(bootstrap(Settings(data_dir=Path(sys.argv[1]))))
"""


def test_killed_while_streaming_then_rerun_stores_the_message_once_and_whole(tmp_path: Path) -> None:
    """SIGKILL in the middle of streaming a large message into the store, then a rerun: one raw
    row, the whole bytes, and no partial blob under the message's name."""
    import subprocess
    import sys

    app = make_app(tmp_path)
    source = big_mail(app, 5 * MIB)
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_STREAM, str(app.settings.resolved_data_dir), str(marker)]
    )
    try:
        for _ in range(1200):  # wait for the condition, not for a time: at most 120 s
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), "the collect never reached the middle of the stream"
    finally:
        child.kill()
        child.wait()
    assert list((app.settings.raw_dir / ".incoming").iterdir())  # the killed run's partial tmp file

    collect(app)

    raw = the_raw(app)
    assert (raw.size, raw.sha256, sha256_of(Path(raw.path))) == (5 * MIB, sha256_of(source), raw.sha256)
    assert round_status(app, "test-runde")["needs_review"] == 0  # 5 MiB is under the parse limit
