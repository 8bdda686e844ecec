"""A process-batch run on a worker that cannot see the shared raw store changes nothing.

The worker side of a work-pool collect (flows/process_batch.py): the raw store is "not mounted"
(moved away), so the run must fail with a reason that says what to fix, and leave every message
``stored`` with no attempt counted, so the next collect (on a worker that sees the store) takes
them. Without the check, each message would be tried, fail, and count an attempt towards its
quarantine: a misconfigured worker would quarantine good mail.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.adapters.db.tables import RawMessageRow, ResponseRow
from flows.adapters.ports import Batch, FetchedMessage
from flows.bootstrap import bootstrap
from flows.core.model import RawState
from flows.process_batch import BatchUnreadableError, process_batch
from flows.services.collecting import pending_raw_ids, store_batch
from flows.settings import Settings
from tests.support.raw_store import add_round, fetched


def reply(uid: int) -> FetchedMessage:
    data = (
        f"From: svar{uid}@forening.example\r\nTo: h@kk.example\r\nSubject: SV: Høring\r\n"
        f"Message-ID: <r{uid}@forening.example>\r\n\r\nVi bakker op.\r\n"
    ).encode()
    return fetched(data, uid, datetime(2025, 10, 20, 10, uid, tzinfo=UTC))


def test_a_worker_without_the_shared_store_fails_the_batch_and_leaves_it_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "var"
    monkeypatch.setenv("HOERING_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HOERING_PARSE_WORKERS", "0")
    for name in ("HOERING_DATABASE_URL", "HOERING_WORK_POOL", "HOERING_NOW"):
        monkeypatch.delenv(name, raising=False)
    app = bootstrap(Settings())
    add_round(app)
    assert store_batch(app, Batch([reply(1), reply(2)])) == 2
    ids = pending_raw_ids(app)
    raw_dir = app.settings.raw_dir
    shutil.move(raw_dir, tmp_path / "elsewhere")  # this worker does not have the share mounted

    with pytest.raises(BatchUnreadableError) as failed:
        process_batch.fn("r1", ids, None)

    reason = str(failed.value)
    assert "kan ikke læse 2 af batchens 2 gemte beskeder" in reason
    assert "skal ligge på en sti, som alle workers har monteret" in reason
    assert str(raw_dir) in reason
    with app.db.transaction() as session:
        rows = session.execute(select(RawMessageRow.state, RawMessageRow.attempts)).all()
        assert session.scalars(select(ResponseRow.id)).all() == []
    assert sorted(rows) == [(RawState.STORED.value, 0), (RawState.STORED.value, 0)]
    assert pending_raw_ids(app) == ids  # the next collect takes them

    shutil.move(tmp_path / "elsewhere", raw_dir)  # on a worker that sees the store: processed
    assert process_batch.fn("r1", ids, None)["processed"] == 2
    assert pending_raw_ids(app) == []
    app.db.dispose()
