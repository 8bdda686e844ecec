"""The embedded outbox: each message as an ``.eml`` file in ``DATA_DIR/outbox/``.

The file name comes from the Message-ID recorded before the file is written, so a rerun finds
the file there and writes nothing twice.
"""

from __future__ import annotations

import hashlib
import os
import re
from email.message import EmailMessage
from pathlib import Path

from flows.adapters.ports import SendResult


class FileMailer:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, message: EmailMessage, recipient: str) -> Path:
        message_id = str(message["Message-ID"] or "")
        local = re.sub(r"[^A-Za-z0-9.-]+", "-", message_id.strip("<>").split("@")[0])[:80]
        digest = hashlib.sha256(f"{message_id}|{recipient}".encode()).hexdigest()[:10]
        return self.root / f"{local}-{digest}.eml"

    def send(self, message: EmailMessage, recipient: str) -> SendResult:
        path = self.path_for(message, recipient)
        if path.exists():
            return SendResult("sent", 250, "already in the outbox folder", str(path))
        write_durably(path, message.as_bytes())
        return SendResult("sent", 250, "written to the outbox folder", str(path))

    def close(self) -> None:
        return None


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
