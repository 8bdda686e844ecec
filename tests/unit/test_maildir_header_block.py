"""The Maildir fetch reads a message's receipt time from its header block only: over every public
message in ../shared/corpora, the headers parsed from the cut block are exactly those parsed from
the bytes the fetch handed the parser before (the first 256 KiB)."""

from __future__ import annotations

from email.parser import BytesHeaderParser

import pytest

from flows.adapters.maildir_source import _topmost_received, header_block
from tests.conftest import corpora_dir

HEAD = 256 * 1024


def test_the_header_block_holds_every_header_of_each_corpus_message() -> None:
    folders = [corpora_dir("email"), corpora_dir("bounces")]
    files = [p for folder in folders for p in sorted(folder.rglob("*.eml"))]
    if not files:
        pytest.skip("the corpora hold no .eml files")
    for path in files:
        data = path.read_bytes()[:HEAD]
        cut = header_block(data)
        whole = BytesHeaderParser().parsebytes(data)
        block = BytesHeaderParser().parsebytes(cut)
        assert block.items() == whole.items(), path.name
        assert [type(d) for d in block.defects] == [type(d) for d in whole.defects], path.name
        assert len(cut) <= len(data)


@pytest.mark.parametrize(
    ("data", "cut"),
    [
        (b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore", b"A: 1\r\nB: 2\r\n"),
        (b"A: 1\nB: 2\n\nbody", b"A: 1\nB: 2\n\n"),
        (b"A: 1\nB: 2", b"A: 1\nB: 2"),  # no blank line: all of it
        (b"A: 1\n\r\nB: 2\n\nbody", b"A: 1\n\r\nB: 2\n\n"),  # a later cut is still a whole one
    ],
)
def test_the_cut_is_at_the_first_blank_line_or_later(data: bytes, cut: bytes) -> None:
    assert header_block(data) == cut


def test_a_received_stamp_in_the_body_is_not_read() -> None:
    data = b"Subject: x\r\n\r\nReceived: by mx; Mon, 20 Oct 2025 10:00:00 +0200\r\n"
    assert _topmost_received(data) is None
