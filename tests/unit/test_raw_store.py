"""The raw store's streaming path and its reading of outside files (no links, no fifos)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.adapters import raw_store
from flows.adapters.raw_store import RawStore, file_chunks, read_file


def test_a_stream_is_stored_as_its_bytes_would_be(tmp_path: Path) -> None:
    """Chunks give the same sha256, path and size as the bytes in one piece; a rerun is a no-op
    and no tmp file is left behind."""
    data = os.urandom(3 * raw_store.CHUNK + 17)
    store = RawStore(tmp_path / "raw")

    streamed = store.put_stream(data[i : i + 1000] for i in range(0, len(data), 1000))
    again = store.put_stream(iter([data]))
    sha, path = store.put(data)

    assert streamed == again == (sha, path, len(data))
    assert sha == hashlib.sha256(data).hexdigest() and path.read_bytes() == data
    assert list((tmp_path / "raw" / ".incoming").iterdir()) == []


def test_a_failing_stream_leaves_no_blob_and_no_tmp_file(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"first chunk"
        raise OSError("source went away")

    store = RawStore(tmp_path / "raw")
    with pytest.raises(OSError, match="went away"):
        store.put_stream(broken())
    assert [p for p in (tmp_path / "raw").rglob("*") if p.is_file()] == []


def test_stale_stream_files_of_killed_runs_are_removed(tmp_path: Path) -> None:
    incoming = tmp_path / "raw" / ".incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "1.old.tmp", incoming / "2.fresh.tmp"
    old.write_bytes(b"x" * 10)
    fresh.write_bytes(b"y")
    os.utime(old, (time.time() - 2 * raw_store.STALE_TMP_SECONDS,) * 2)

    RawStore(tmp_path / "raw").put_stream(iter([b"z"]))

    assert sorted(p.name for p in incoming.iterdir()) == ["2.fresh.tmp"]


def test_links_and_fifos_are_never_read(tmp_path: Path) -> None:
    """A symlink is refused (ELOOP), its target unread; a fifo is refused at once, not waited on."""
    target = tmp_path / "target.txt"
    target.write_text("secret", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    for path in (link, fifo):
        with pytest.raises(OSError):
            read_file(path)


def test_small_files_are_read_whole_large_ones_only_their_head(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    small.write_bytes(b"a" * raw_store.INLINE_MAX)
    large.write_bytes(b"b" * (raw_store.HEAD_BYTES + raw_store.INLINE_MAX + 5))

    whole = read_file(small)
    head = read_file(large)

    assert (whole.whole, len(whole.data)) == (True, raw_store.INLINE_MAX)
    assert (head.whole, len(head.data)) == (False, raw_store.HEAD_BYTES)
    assert b"".join(file_chunks(large, head.identity)) == large.read_bytes()


def test_a_file_swapped_after_it_was_listed_is_refused(tmp_path: Path) -> None:
    """Replaced by a link or by another file between listing and storing: the stream refuses it."""
    path = tmp_path / "brev.pdf"
    path.write_bytes(b"%PDF" + b"0" * (2 * raw_store.INLINE_MAX))
    listed = read_file(path)
    other = tmp_path / "other"
    other.write_bytes(b"another file")

    path.unlink()
    path.symlink_to(other)
    with pytest.raises(OSError):
        file_chunks(path, listed.identity)
    path.unlink()
    other.rename(path)
    with pytest.raises(OSError, match="replaced"):
        file_chunks(path, listed.identity)
