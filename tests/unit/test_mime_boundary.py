"""The feed parser's boundary test without a per-message regex answers exactly as the regex did."""

from __future__ import annotations

import email.feedparser
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from flows.adapters import mail_headers, mailparse, mime_boundary  # noqa: F401  (importing mailparse installs the matcher)
from flows.adapters.mime_boundary import BoundaryMatcher, boundary_separator
from tests.conftest import corpora_dir

SEPARATORS = [
    "--simple",
    "----=_NextPart_000_0001_01D2A3B4.C5D6E7F0",
    "--b(1)+?*[x]{2}|^$\\.&~# \t",  # every character re.escape escapes
    "--æøå-ÆØÅ",
    "--",
]
ENDINGS = [
    "",
    "--",
    "--\n",
    "\n",
    "\r\n",
    "\r",
    " \t\r\n",
    "--  \n",
    "-- \r\n",
    "x\n",
    "--x",
    "\n\n",
    "\r\n\n",
    "-",
]


def _feedparser_pattern(separator: str) -> str:
    # the expression email.feedparser builds, character for character
    return "(?P<sep>" + re.escape(separator) + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$"


def _answer(match: re.Match[str] | None) -> tuple[Any, ...] | None:
    return (
        None
        if match is None
        else (match.group("end"), match.group("ws"), match.group("linesep"), match.end())
    )


@pytest.mark.parametrize("separator", SEPARATORS)
def test_matcher_answers_as_the_regex(separator: str) -> None:
    regex = re.compile(_feedparser_pattern(separator))
    matcher = BoundaryMatcher(separator)
    lines = [separator + ending for ending in ENDINGS]
    lines += ["x" + separator + "\n", separator[:-1] + "\n", "", "\n", "--other\n"]
    for line in lines:
        assert _answer(matcher.match(line)) == _answer(regex.match(line)), repr(line)


@pytest.mark.parametrize("separator", SEPARATORS)
def test_separator_read_back_from_the_pattern(separator: str) -> None:
    assert boundary_separator(_feedparser_pattern(separator)) == separator


def test_other_patterns_are_compiled_as_before() -> None:
    stand_in = vars(email.feedparser)["re"]
    assert boundary_separator(r"(\r\n|\r|\n)\Z") is None
    assert boundary_separator("(?P<sep>a)b") is None
    assert isinstance(stand_in.compile(r"(\r\n|\r|\n)\Z"), re.Pattern)
    assert isinstance(stand_in.compile(_feedparser_pattern("--x"), re.IGNORECASE), re.Pattern)
    assert isinstance(stand_in.compile(_feedparser_pattern("--x")), BoundaryMatcher)
    assert stand_in.escape is re.escape


@contextmanager
def _plain_feedparser() -> Iterator[None]:
    namespace = vars(email.feedparser)
    stand_in = namespace["re"]
    namespace["re"] = re
    try:
        yield
    finally:
        namespace["re"] = stand_in


def _shape(msg: Message) -> list[tuple[Any, ...]]:
    return [
        (
            part.get_content_type(),
            part.preamble,
            part.epilogue,
            None if part.is_multipart() else part.get_payload(decode=True),
            [type(d).__name__ for d in part.defects],
        )
        for part in msg.walk()
    ]


def _messages() -> list[Path]:
    email_dir, bounces = corpora_dir("email"), corpora_dir("bounces")
    return sorted(p for folder in (email_dir, bounces) for p in folder.rglob("*.eml"))


def test_corpus_parses_to_the_same_tree() -> None:
    """Every real message in the corpora: the same parts, payloads, preambles and defects."""
    assert vars(email.feedparser)["re"] is not re  # importing mailparse installed the matcher
    multipart = 0
    for path in _messages():
        raw = path.read_bytes()
        fast = BytesParser(policy=mail_headers.MAIL_POLICY).parsebytes(raw)
        with _plain_feedparser():
            slow = BytesParser(policy=mail_headers.MAIL_POLICY).parsebytes(raw)
        assert _shape(fast) == _shape(slow), path.name
        multipart += fast.is_multipart()
    assert multipart > 100  # the corpus exercises the boundary code, not just single parts


def test_install_is_idempotent() -> None:
    stand_in = vars(email.feedparser)["re"]
    mime_boundary.install()
    assert vars(email.feedparser)["re"] is stand_in
