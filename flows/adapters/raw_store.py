"""Content-addressed storage of raw bytes: tmp file, fsync, rename.

A blob is written before the database row that points at it is committed, so a crash leaves at
most an orphan file, never a row without its bytes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class RawStore:
    """Blobs under ``root/ab/cd/<sha256>``; the path never comes from outside input."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, *, durable: bool = True) -> tuple[str, Path]:
        """Store ``data`` (idempotent) and return its sha256 and path.

        ``durable=False`` skips the fsync, for bytes that can be derived again from a durable blob.
        """
        sha256 = hashlib.sha256(data).hexdigest()
        path = self.path_for(sha256)
        if path.exists() and path.stat().st_size == len(data):
            return sha256, path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        tmp.replace(path)
        return sha256, path

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()
