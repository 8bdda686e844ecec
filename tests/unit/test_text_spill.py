"""Texts spilled to a file come back exactly, whether read before or after they reach the disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.adapters import text_spill
from flows.adapters.text_spill import KEEP_BELOW, SpilledText, TextsById, TextSpill

TEXTS = [
    "Vi har ingen bemærkninger til høringen. " * 3,
    "Æblegrød og rødgrød med fløde — “citat” og emoji 🎉 " * 4,
    "Linje et\r\nLinje to\n\n\tindrykket\x0b" * 5,
    "surrogat \udce6 fra en ødelagt kodning " * 3,
    "kort",
    "",
]


def test_texts_come_back_exactly(tmp_path: Path) -> None:
    spill = TextSpill(tmp_path / "spill")
    handles = [spill.put(t) for t in TEXTS]
    assert [h if isinstance(h, str) else h.read() for h in handles] == TEXTS  # before any flush
    assert all(
        isinstance(h, SpilledText) == (len(t) >= KEEP_BELOW) for h, t in zip(handles, TEXTS, strict=True)
    )
    assert list((tmp_path / "spill").iterdir()) == [], "the file is unlinked at once"


def test_reads_across_flushes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_spill, "FLUSH_BYTES", 1000)  # small, so that many flushes happen
    spill = TextSpill(tmp_path)
    texts = [f"{n}: " + "høringssvar " * (10 + n % 50) for n in range(2_000)]
    handles = [spill.put(t) for t in texts]
    assert spill.size > 100_000
    spilled = [h for h in handles if isinstance(h, SpilledText)]
    assert len(spilled) == len(texts)
    assert [h.read() for h in reversed(spilled)] == list(reversed(texts))


def test_texts_by_id_reads_on_demand(tmp_path: Path) -> None:
    spill = TextSpill(tmp_path)
    texts = {7: TEXTS[0], 3: "kort", 9: TEXTS[1]}
    lazy = TextsById({k: spill.put(v) for k, v in texts.items()})
    assert dict(lazy) == texts
    assert sorted(lazy) == [3, 7, 9] and len(lazy) == 3
