"""The parse pool: the same results as parsing in process, in order, and nothing lost if a worker dies."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from bench.corpus import CorpusInfo, generate
from flows.adapters import parse_pool
from flows.adapters.parse_pool import POOL_MIN_MESSAGES, StoredMessage, parse_all

MAX = 25 * 1024 * 1024


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusInfo:
    return generate(150, tmp_path_factory.mktemp("pool"), seed=11)


def _items(corpus: CorpusInfo) -> list[StoredMessage]:
    files = sorted(p for sub in ("new", "cur") for p in (corpus.maildir / sub).iterdir())
    return [StoredMessage(str(p), "imap", p.name) for p in files]


def test_workers_give_what_one_process_gives_in_the_same_order(corpus: CorpusInfo) -> None:
    items = _items(corpus)
    assert len(items) >= POOL_MIN_MESSAGES
    alone = list(parse_all(items, MAX, workers=0))
    pooled = list(parse_all(items, MAX, workers=2))
    assert 2 in parse_pool._pools, "a batch this size must go to the pool"
    assert [asdict(p) for p in pooled] == [asdict(p) for p in alone]  # type: ignore[call-overload]


def test_an_unreadable_file_is_returned_as_its_error_in_its_place(corpus: CorpusInfo, tmp_path: Path) -> None:
    items = _items(corpus)
    items.insert(7, StoredMessage(str(tmp_path / "gone.eml"), "imap", "gone.eml"))
    results = list(parse_all(items, MAX, workers=2))
    assert len(results) == len(items)
    assert isinstance(results[7], FileNotFoundError)
    assert all(not isinstance(r, Exception) for n, r in enumerate(results) if n != 7)


@dataclass(frozen=True)
class _KillsItsWorker(StoredMessage):
    """A message whose parsing kills a worker process outright (as a crash in C code would)."""

    def __getattribute__(self, name: str) -> object:
        if name == "path" and multiprocessing.parent_process() is not None:
            os._exit(70)
        return object.__getattribute__(self, name)


def test_a_dead_worker_loses_nothing(corpus: CorpusInfo) -> None:
    items = _items(corpus)
    items[100] = _KillsItsWorker(items[100].path, items[100].source, items[100].name)
    expected = [asdict(p) for p in parse_all(items, MAX, workers=0)]  # type: ignore[call-overload]
    results = list(parse_all(items, MAX, workers=2))
    assert [asdict(p) for p in results] == expected  # type: ignore[call-overload]
    assert 2 not in parse_pool._pools, "a broken pool is dropped, the next batch starts a new one"
    assert len(list(parse_all(items[:POOL_MIN_MESSAGES], MAX, workers=2))) == POOL_MIN_MESSAGES
    assert 2 in parse_pool._pools


def test_small_batches_stay_in_this_process(corpus: CorpusInfo) -> None:
    parse_pool._forget(3)
    list(parse_all(_items(corpus)[: POOL_MIN_MESSAGES - 1], MAX, workers=3))
    assert 3 not in parse_pool._pools


def test_workers_store_attachments_and_send_back_only_their_paths(corpus: CorpusInfo, tmp_path: Path) -> None:
    items = _items(corpus)
    alone = list(parse_all(items, MAX, workers=0))
    pooled = list(parse_all(items, MAX, workers=2, files_dir=tmp_path / "files"))
    pairs = [
        (kept, stored)
        for one, other in zip(alone, pooled, strict=True)
        for kept, stored in zip(one.attachments, other.attachments, strict=True)  # type: ignore[union-attr]
        if kept.data
    ]
    assert len(pairs) > 10, "the corpus has attachments with bytes"
    for kept, stored in pairs:
        assert stored.data == b"" and stored.size == kept.size == len(kept.data)
        assert stored.stored_path is not None
        assert Path(stored.stored_path).read_bytes() == kept.data
        assert Path(stored.stored_path).is_relative_to(tmp_path / "files")


def test_an_attachment_that_cannot_be_stored_keeps_its_bytes(corpus: CorpusInfo, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the store's folder should be")
    parsed = [
        p
        for p in parse_all(_items(corpus), MAX, workers=0, files_dir=blocked)
        if not isinstance(p, Exception)
    ]
    attachments = [a for p in parsed for a in p.attachments if a.size > 0]
    assert attachments and all(a.data and a.stored_path is None for a in attachments)
