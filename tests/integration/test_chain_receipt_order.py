"""The chain on SQLite when stored numbers run against receipt order (batches ingested out of order).

A response's stored number is handed out as its batch is ingested; the outputs number by
receipt. Each line must still get its own raw message's sha256, and a gone file must be named
by the number the note shows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from flows.adapters.db.tables import RawMessageRow, ResponseRow
from flows.bootstrap import App
from flows.services import assembling
from tests.integration.test_round_lifecycle import collect, deliver, make_app


def _late_batch_received_earlier(tmp_path: Path) -> App:
    app = make_app(tmp_path)
    deliver(app, "b", "kbh@roedekors.example", "Vi foreslår flere frivillige.", "2025-10-19T10:00:00+02:00")
    collect(app)  # stored nr. 1
    deliver(app, "a", "aeldre@raad.example", "Vi ønsker længere åbningstider.", "2025-10-17T10:00:00+02:00")
    collect(app)  # stored nr. 2, received first: shown as nr. 1
    return app


def _files(app: App) -> dict[str, tuple[int, str, str]]:
    """Sender: (stored number, sha256, path)."""
    with app.db.transaction() as session:
        rows = session.execute(
            select(ResponseRow.sender, ResponseRow.number, RawMessageRow.sha256, RawMessageRow.path).join(
                RawMessageRow, RawMessageRow.id == ResponseRow.raw_message_id
            )
        )
        return {sender: (number, sha, path) for sender, number, sha, path in rows}


def test_counted_files_come_in_receipt_order_with_their_references(tmp_path: Path) -> None:
    app = _late_batch_received_earlier(tmp_path)
    files = _files(app)
    assert (files["kbh@roedekors.example"][0], files["aeldre@raad.example"][0]) == (1, 2)

    with app.uow() as uow:
        found = [(f.reference.rsplit("-", 1)[-1], f.sha256) for f in uow.records.counted_files("test-runde")]

    assert found == [
        (f"{files['aeldre@raad.example'][0]:04d}", files["aeldre@raad.example"][1]),
        (f"{files['kbh@roedekors.example'][0]:04d}", files["kbh@roedekors.example"][1]),
    ]


def test_the_log_shows_each_line_its_own_sha256_and_the_gate_the_shown_number(tmp_path: Path) -> None:
    app = _late_batch_received_earlier(tmp_path)
    files = _files(app)
    aeldre = Path(files["aeldre@raad.example"][2])
    assert hashlib.sha256(aeldre.read_bytes()).hexdigest() == files["aeldre@raad.example"][1]

    report = assembling.assemble(app, "test-runde", tmp_path / "out")

    sheet = load_workbook(report.log)["Høringssvar"]
    header = [c.value for c in sheet[1]]
    shown = [
        (row[header.index("Nr.")], row[header.index("SHA-256")])
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert shown == [(1, files["aeldre@raad.example"][1]), (2, files["kbh@roedekors.example"][1])]
    assert report.quality_problems == []

    aeldre.unlink()
    again = assembling.assemble(app, "test-runde", tmp_path / "out")
    assert again.quality_problems == ["den gemte råbesked mangler for høringssvar nr. 1"]
