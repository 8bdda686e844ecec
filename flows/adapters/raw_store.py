"""Content-addressed storage of raw bytes: tmp file, fsync, rename.

A blob is written before the database row that points at it is committed, so a crash leaves at
most an orphan file, never a row without its bytes. Large items are streamed: hashed and written
a chunk at a time, so a 300 MB message costs one chunk of memory, not 300 MB.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import stat
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

CHUNK = 1024 * 1024
# Files up to this size are read in one go; larger ones are streamed (bounds a batch's memory).
INLINE_MAX = 1024 * 1024
# What a streamed item keeps in memory for its headers (receipt time, the parser's header block).
HEAD_BYTES = 1024 * 1024
# A stream's tmp file older than this was left by a killed run (a live one is written to).
STALE_TMP_SECONDS = 6 * 3600


class Stored(NamedTuple):
    sha256: str
    path: Path
    size: int


class RawStore:
    """Blobs under ``root/ab/cd/<sha256>``; the path never comes from outside input."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[Path] = set()

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
        if path.parent not in self._made:  # a mkdir per blob cost 0.1 ms; 65,536 folders at most
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        tmp = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        tmp.replace(path)
        return sha256, path

    def put_stream(self, chunks: Iterable[bytes], *, durable: bool = True) -> Stored:
        """Store bytes that arrive in chunks, hashing as they are written (idempotent)."""
        incoming = self.root / ".incoming"
        if incoming not in self._made:
            incoming.mkdir(parents=True, exist_ok=True)
            self._made.add(incoming)
            _remove_stale(incoming)
        tmp = incoming / f"{os.getpid()}.{uuid.uuid4().hex}.tmp"
        digest, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            sha256 = digest.hexdigest()
            path = self.path_for(sha256)
            if path.exists() and path.stat().st_size == size:
                return Stored(sha256, path, size)
            if path.parent not in self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(path.parent)
            tmp.replace(path)
            return Stored(sha256, path, size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def put_many(self, blobs: Sequence[bytes | Iterable[bytes]]) -> list[Stored]:
        """Store a batch, then make it durable with one filesystem sync instead of one per file.

        A blob is its bytes, or its chunks (a large item, streamed). One ``syncfs`` covers the file
        data and the renames (directory entries) of the whole batch; an fsync per 5 KB message
        bounded collection at about 1,100 messages a second here.
        """
        stored = []
        for blob in blobs:
            if isinstance(blob, bytes):
                sha256, path = self.put(blob, durable=False)
                stored.append(Stored(sha256, path, len(blob)))
            else:
                stored.append(self.put_stream(blob, durable=False))
        if stored:
            sync_filesystem(self.root)
        return stored


def _remove_stale(folder: Path) -> None:
    """Tmp files of streams a killed run left behind (a live stream's file is fresh)."""
    cutoff = time.time() - STALE_TMP_SECONDS
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                Path(entry.path).unlink()


# ---------------------------------------------------------------------------------------------
# reading files from outside (the Maildir, the drop folder) without following links


class FileId(NamedTuple):
    device: int
    inode: int


def open_regular(path: Path, expect: FileId | None = None) -> tuple[int, os.stat_result]:
    """An fd on ``path`` if it is a regular file, never following a symlink; else OSError.

    ``O_NONBLOCK`` so that a fifo swapped in cannot hang the open; the check is on the opened
    fd (``fstat``), so a file swapped after a directory listing is caught too.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")  # no name: it may reach a log
        if expect is not None and FileId(info.st_dev, info.st_ino) != expect:
            raise OSError("replaced since it was listed")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


class FileRead(NamedTuple):
    """What was read of a file: all of it (``whole``), or only its head."""

    data: bytes
    whole: bool
    identity: FileId


def read_file(path: Path) -> FileRead:
    """A small file's bytes whole; of a large one only its head (stream it with ``file_chunks``).

    A batch of large files thus holds only their heads in memory until they are stored.
    """
    fd, info = open_regular(path)
    identity = FileId(info.st_dev, info.st_ino)
    with os.fdopen(fd, "rb") as handle:
        if info.st_size <= INLINE_MAX:
            data = handle.read(INLINE_MAX + 1)
            if len(data) <= INLINE_MAX:  # it may have grown since fstat
                return FileRead(data, True, identity)
        else:
            data = handle.read(HEAD_BYTES)
    return FileRead(data[:HEAD_BYTES], False, identity)


def file_chunks(path: Path, expect: FileId) -> Iterator[bytes]:
    """The whole file in chunks; the open (and its checks) happens now, the reads when consumed."""
    fd, _info = open_regular(path, expect)
    return _chunks(os.fdopen(fd, "rb"))


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def sync_filesystem(path: Path) -> None:
    """syncfs(2) on the filesystem holding ``path``; os.sync() where syncfs is unavailable."""
    libc_name = ctypes.util.find_library("c")
    syncfs = getattr(ctypes.CDLL(libc_name, use_errno=True), "syncfs", None) if libc_name else None
    if syncfs is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)
