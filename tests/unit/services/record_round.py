"""A round as export and purge find it, on the fake unit of work (``uow``/``app`` of conftest)."""

from __future__ import annotations

from flows.bootstrap import App
from flows.core.outputs import output_paths
from flows.services import collecting, ingesting
from tests.support.fakes import FakeUnitOfWork
from tests.unit.services.conftest import NOW, ROUND, batch, mail


def assembled_round(app: App, uow: FakeUnitOfWork) -> None:
    """Three responses stored and parsed (one from an unknown sender) and the outputs of an assemble.

    The invitations the world sent before are kept as the outbox keeps what it sends: a file each.
    """
    uow.rounds.rounds[ROUND.id] = ROUND
    for row in uow.outbox.rows.values():
        if row.item.round_id == ROUND.id and row.location is None:
            kept = app.settings.outbox_dir / f"{row.id:04d}.eml"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_bytes(f"Message-ID: {row.message_id}\r\n\r\nHermed udkastet.\r\n".encode())
            row.location = str(kept)
    collecting.store_batch(
        app,
        batch(
            mail("hr@kk.example", "Vi savner en tidsplan.", message_id="1@hr"),
            mail("aeldre@kk.example", "Ingen bemærkninger.", message_id="1@aeldre"),
            mail("ukendt@andet.example", "Hvem er I?", message_id="1@ukendt"),
        ),
    )
    ingesting.process_batch(app, ROUND.id, collecting.pending_raw_ids(app))
    outputs = output_paths(app.settings.out_dir(ROUND.id), ROUND.id)
    outputs.note.parent.mkdir(parents=True, exist_ok=True)
    outputs.note.write_bytes(b"the note")
    outputs.log.write_bytes(b"the log")
    uow.events.add(
        ROUND.id, "assemble", "written", recorded_at=NOW, note=str(outputs.note), log=str(outputs.log)
    )
