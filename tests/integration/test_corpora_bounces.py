"""Every sisimai bounce sample is parsed and classified as a bounce, bar a listed few that are not bounces."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.adapters.mailparse import parse_message
from flows.core.classify import classify
from flows.core.model import Kind

pytestmark = pytest.mark.corpora

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
SISIMAI = CORPORA / "bounces" / "sisimai"

# Samples in the corpus that are genuinely not delivery failures, with what they are instead.
NOT_BOUNCES: dict[str, tuple[set[Kind], str]] = {
    **{
        f"arf-{n:02d}.eml": (
            {Kind.RESPONSE, Kind.AUTO_REPLY},
            "ARF abuse/feedback report, not a delivery failure",
        )
        for n in (1, 11, 14, 16, 18, 20, 22, 24, 26)
    },
    "lhost-amazonses-12.eml": ({Kind.RESPONSE}, 'SES "notificationType":"Delivery": a success notice'),
    "lhost-fml-02.eml": ({Kind.RESPONSE}, "mailing-list admin reply 'you are not a member', delivered fine"),
    "rfc3834-01.eml": ({Kind.AUTO_REPLY}, "RFC 3834 vacation auto-reply"),
    "rfc3834-03.eml": ({Kind.AUTO_REPLY}, "RFC 3834 vacation auto-reply"),
    "rfc3834-05.eml": ({Kind.AUTO_REPLY}, "RFC 3834 auto-reply (Auto-Submitted header only)"),
}


def _samples() -> list[Path]:
    if not SISIMAI.is_dir():
        pytest.skip(f"{SISIMAI} is absent: the real-world corpora are not checked out beside the repo")
    return sorted(p for p in SISIMAI.iterdir() if p.suffix == ".eml")


def _kind(path: Path) -> Kind:
    parsed = parse_message(path.read_bytes())
    return classify(parsed, own_addresses=set(), own_message_ids=set(), authserv_id=None).kind


def test_sisimai_bounces_are_bounces() -> None:
    """All sisimai samples except the listed non-bounces classify as BOUNCE; the hit rate is printed."""
    samples = _samples()
    kinds = {p.name: _kind(p) for p in samples}
    expected_bounces = [name for name in kinds if name not in NOT_BOUNCES]
    missed = {name: kinds[name] for name in expected_bounces if kinds[name] != Kind.BOUNCE}
    wrong_exceptions = {
        name: kinds[name]
        for name, (allowed, _why) in NOT_BOUNCES.items()
        if name in kinds and kinds[name] not in allowed
    }
    hits = len(expected_bounces) - len(missed)
    print(f"sisimai: {hits}/{len(expected_bounces)} bounces recognised ({hits / len(expected_bounces):.1%}), "
          f"{len(NOT_BOUNCES)} listed non-bounces of {len(samples)} samples")  # fmt: skip
    assert missed == {}
    assert wrong_exceptions == {}


def test_listed_non_bounces_exist() -> None:
    """The listed non-bounces exist in the corpus (the list is not stale)."""
    names = {p.name for p in _samples()}
    assert set(NOT_BOUNCES) <= names
