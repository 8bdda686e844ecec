"""The benchmark corpus: deterministic, complete, parseable, and true to its ground truth."""

from __future__ import annotations

import email
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.corpus import CorpusInfo, generate, read_truth
from bench.harness import body_text, grouping_scores, scaling_exponent
from flows.adapters.round_file import load_round_file

N = 200


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusInfo:
    return generate(N, tmp_path_factory.mktemp("a"), seed=7)


def _files(maildir: Path) -> dict[str, bytes]:
    return {
        f"{p.parent.name}/{p.name}": p.read_bytes()
        for sub in ("new", "cur")
        for p in (maildir / sub).iterdir()
    }


def test_same_seed_gives_identical_bytes(corpus: CorpusInfo, tmp_path: Path) -> None:
    again = generate(N, tmp_path / "b", seed=7)
    assert _files(again.maildir) == _files(corpus.maildir)
    assert again.truth.read_bytes() == corpus.truth.read_bytes()
    assert (tmp_path / "b" / "round.toml").read_bytes() == corpus.round_file.read_bytes()


def test_another_seed_gives_another_corpus(corpus: CorpusInfo, tmp_path: Path) -> None:
    other = generate(N, tmp_path / "c", seed=8)
    assert _files(other.maildir) != _files(corpus.maildir)


def test_truth_has_one_line_per_message_file(corpus: CorpusInfo) -> None:
    truth = read_truth(corpus.truth)
    files = _files(corpus.maildir)
    assert len(truth) == N == len(files)
    assert sorted(t["file"] for t in truth) == sorted(files)
    for line in truth:
        assert hashlib.sha256(files[line["file"]]).hexdigest() == line["sha256"]
        assert line["file"].split("/")[1].startswith("1729")


def test_every_message_parses_and_matches_its_truth(corpus: CorpusInfo) -> None:
    files = _files(corpus.maildir)
    for line in read_truth(corpus.truth):
        message = email.message_from_bytes(files[line["file"]])
        assert not message.defects, line["file"]
        assert message["Message-ID"] == line["message_id"]
        assert "by imap.kk.example" in (message.get_all("Received") or [""])[0]
        if line["kind"] in ("response", "auto_reply") and not line.get("attachments"):
            assert body_text(message).strip()


def test_kind_counts_match_the_truth(corpus: CorpusInfo) -> None:
    truth = read_truth(corpus.truth)
    assert corpus.kinds == dict(Counter(t["kind"] for t in truth))
    assert corpus.kinds["response"] > N * 0.7
    duplicates = [t for t in truth if t["kind"] == "duplicate"]
    by_file = {t["file"]: t for t in truth}
    for dup in duplicates:
        assert by_file[dup["duplicate_of"]]["message_id"] == dup["message_id"]


def test_round_file_is_valid(corpus: CorpusInfo) -> None:
    spec = load_round_file(corpus.round_file)
    assert spec.id == "bench-round"
    assert len(spec.parties) == 50
    assert any("æ" in p.name or "ø" in p.name or "å" in p.name for p in spec.parties)


def test_two_hundred_messages_take_seconds_not_minutes(tmp_path: Path) -> None:
    started = time.perf_counter()
    generate(N, tmp_path / "d")
    assert time.perf_counter() - started < 5


def test_grouping_scores_count_pairs() -> None:
    truth = {1: "a", 2: "a", 3: "a", 4: None, 5: "b", 6: "b"}
    perfect = grouping_scores(truth, truth)
    assert perfect["precision"] == perfect["recall"] == 1.0
    merged = grouping_scores({i: "x" for i in truth}, truth)
    assert merged["recall"] == 1.0
    assert merged["precision"] == pytest.approx(4 / 15)


def test_scaling_exponent() -> None:
    assert scaling_exponent(1000, 1.0, 10_000, 10.0) == pytest.approx(1.0)
    assert scaling_exponent(1000, 0.0, 10_000, 10.0) is None


def test_truth_lines_are_json_objects(corpus: CorpusInfo) -> None:
    for raw in corpus.truth.read_text(encoding="utf-8").splitlines():
        line = json.loads(raw)
        assert set(line) >= {
            "file",
            "kind",
            "party",
            "campaign",
            "duplicate_of",
            "remarks",
            "late",
            "message_id",
        }
