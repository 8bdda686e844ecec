"""The chain's last link for ``assemble``: each counted response's stored raw message.

Each response line gets its raw message's sha256 (the log's ``SHA-256`` column), and the
assembly the links the quality gate checks: the stored file is there and its bytes hash to
what was recorded when it was received (``flows.core.quality.check_chain``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from flows.adapters.case_file import file_sha256
from flows.bootstrap import App
from flows.core.assembly import Assembly, StoredLink
from flows.core.model import Channel


def attach_chain(app: App, round_id: str, assembly: Assembly) -> None:
    """Give each counted response its raw message's sha256 and the gate its stored links."""
    with app.uow() as uow:
        files = uow.records.stored_files(round_id)
    stored = []
    for response in assembly.responses:
        recorded, path = files.get(response.number, (None, None))
        found = file_sha256(Path(path)) if path else None
        typed_in = response.channel is Channel.MANUAL
        stored.append(StoredLink(response.number, recorded, found, typed_in=typed_in))
    responses = assembly.responses  # in place: a second list of a million lines would set the peak
    for index, r in enumerate(responses):
        responses[index] = replace(r, sha256=files.get(r.number, ("", ""))[0])
    assembly.stored = tuple(stored)
