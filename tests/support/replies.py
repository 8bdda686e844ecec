"""The labelled replies under tests/fixtures/replies: each body (or raw .eml) and its golden answer.

A case is ``NAME.txt`` (a body as a mail client writes it) or ``NAME.eml`` (a whole message,
parsed by our own parser first), beside ``NAME.answer.txt``: what the party itself wrote, with
no sign-off, signature, mobile footer, disclaimer or quoted history.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from flows.adapters.mailparse import parse_message

REPLIES = Path(__file__).resolve().parent.parent / "fixtures" / "replies"


@dataclass(frozen=True)
class Reply:
    name: str
    body: str
    answer: str


def labelled_replies() -> list[Reply]:
    return list(_read())


def _read() -> Iterator[Reply]:
    for golden in sorted(REPLIES.glob("*.answer.txt")):
        name = golden.name.removesuffix(".answer.txt")
        eml, txt = REPLIES / f"{name}.eml", REPLIES / f"{name}.txt"
        body = parse_message(eml.read_bytes()).body_text if eml.exists() else txt.read_text(encoding="utf-8")
        yield Reply(name, body, golden.read_text(encoding="utf-8").strip())


def similarity(kept: str, golden: str) -> float:
    """difflib's ratio of the kept text to the golden one, blank-line runs and ends normalised."""
    return difflib.SequenceMatcher(None, _norm(kept), _norm(golden), autojunk=False).ratio()


def _norm(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().split("\n")]
    return "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1]))


def scores(trim: Callable[[str], str], replies: list[Reply]) -> dict[str, float]:
    return {r.name: similarity(trim(r.body), r.answer) for r in replies}
