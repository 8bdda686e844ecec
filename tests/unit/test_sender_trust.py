"""Sender trust as real receiving servers write it (contract "Sender trust", issue 12.1).

The header blocks in ``tests/fixtures/authres/`` are written the way each server writes them:
Postfix with OpenDMARC and OpenDKIM (split headers below Postfix's Received), Gmail (ARC set on
top, A-R below mx.google.com's Received), rspamd under Exim (one A-R above Exim's Received) and
Microsoft 365 (A-R without authserv-id among the internal hops, Received-SPF, X-MS-Exchange-*).
Each has a genuine reply (pass), a forged one (fail) and a forged one with a planted pass below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.adapters.mailparse import parse_message
from flows.core import authresults
from flows.core.classify import classify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "authres"
AUTHSERV = {
    "postfix": "mx.kk.example",
    "gmail": "mx.google.com",
    "exim-rspamd": "mail.kk.example",
    "m365": "exchange-online",
}
EXPECTED = {"pass": "pass", "fail": "fail", "planted": "fail"}
OWN = {"hoering@kk.example"}


def _verified(raw: bytes, authserv_id: str | None) -> str:
    return classify(
        parse_message(raw), own_addresses=OWN, own_message_ids=set(), authserv_id=authserv_id
    ).verified


@pytest.mark.parametrize("variant", sorted(EXPECTED))
@pytest.mark.parametrize("layout", sorted(AUTHSERV))
def test_real_layouts(layout: str, variant: str) -> None:
    """Genuine replies pass, forged ones fail, and a planted pass below ours changes nothing."""
    raw = (FIXTURES / f"{layout}-{variant}.eml").read_bytes()
    assert _verified(raw, AUTHSERV[layout]) == EXPECTED[variant]


@pytest.mark.parametrize("layout", sorted(AUTHSERV))
def test_another_servers_id_believes_nothing(layout: str) -> None:
    """Set up for another server, none of these headers is ours: trust stays "none"."""
    raw = (FIXTURES / f"{layout}-fail.eml").read_bytes()
    other = "mx.other.example" if layout == "m365" else "exchange-online"
    assert _verified(raw, other) == "none"


def _msg(headers: str, sender: str = "sand@example.org") -> bytes:
    base = f"From: SAND <{sender}>\nTo: hoering@kk.example\nSubject: Svar\nMessage-ID: <r1@example.org>\n"
    return (headers.strip("\n") + "\n" + base + "\nTekst.\n").encode()


RECEIVED = "Received: from mail.example.org by mx.kk.example; Mon, 20 Oct 2025 10:00:00 +0200"
OURS = "Authentication-Results: mx.kk.example;"


def test_split_headers_of_our_server_are_read_together() -> None:
    """One header per filter (dmarc, spf, dkim), side by side below our Received: one verdict.

    spf=fail alone would be a fail; the aligned dkim=pass in the next header of the set rescues
    it. Believing only the topmost header (dmarc=none) would leave the sender unjudged.
    """
    raw = _msg(
        f"{RECEIVED}\nDMARC-Filter: OpenDMARC Filter v1.4.2 mx.kk.example 4X\n{OURS} dmarc=none\n"
        f"{OURS} spf=fail smtp.mailfrom=example.org\nDKIM-Filter: OpenDKIM Filter v2.11.0\n"
        f"{OURS} dkim=pass header.d=example.org"
    )
    assert _verified(raw, "mx.kk.example") == "pass"


def test_a_received_header_ends_our_set() -> None:
    """A header with our id below the next Received belongs to the sender's hop: not believed."""
    raw = _msg(
        f"{RECEIVED}\n{OURS} spf=fail\nReceived: by mail.example.org\n{OURS} dkim=pass header.d=example.org"
    )
    assert _verified(raw, "mx.kk.example") == "fail"


def test_a_foreign_header_ends_our_set() -> None:
    raw = _msg(
        f"{OURS} spf=fail\nAuthentication-Results: mx.evil.test; none\n{OURS} dkim=pass header.d=example.org"
    )
    assert _verified(raw, "mx.kk.example") == "fail"


def test_a_header_planted_right_below_ours_cannot_overrule_a_method_we_reported() -> None:
    """No Received between (the forger spoke SMTP to us directly): for each method ours decides."""
    raw = _msg(
        f"{RECEIVED}\n{OURS} spf=fail; dkim=fail header.d=example.org\n{OURS} dkim=pass header.d=example.org"
    )
    assert _verified(raw, "mx.kk.example") == "fail"


def test_a_property_value_is_never_a_result() -> None:
    """The envelope sender is the sender's to choose; ``dkim=pass`` inside it is no dkim result.

    The old parser found ``dkim=pass`` anywhere in the header and called this sender verified.
    """
    raw = _msg(f"{OURS} spf=fail smtp.mailfrom=dkim=pass@evil.test\n{RECEIVED}")
    assert _verified(raw, "mx.kk.example") == "fail"


def test_quoted_strings_and_comments_hide_nothing_and_show_nothing() -> None:
    """``;`` and ``dmarc=pass`` inside a quoted reason or a nested comment are text, not clauses."""
    raw = _msg(
        f'{OURS} (x (dmarc=pass) \\) y) dmarc=fail reason="p=none; dmarc=pass" header.from=example.org'
    )
    assert _verified(raw, "mx.kk.example") == "fail"


def test_a_pass_for_another_domain_is_not_the_senders() -> None:
    """dkim=pass for the forger's own domain neither rescues spf=fail nor makes the From verified."""
    assert _verified(_msg(f"{OURS} spf=fail; dkim=pass header.d=evil.test"), "mx.kk.example") == "fail"
    raw = _msg(f"{OURS} spf=pass smtp.mailfrom=bounce@evil.test; dkim=none")
    assert _verified(raw, "mx.kk.example") == "none"


def test_dmarc_for_another_from_is_no_pass() -> None:
    """The server judged another From header than the one we read (two From headers): no pass."""
    raw = _msg(f"{OURS} dmarc=pass header.from=evil.test")
    assert _verified(raw, "mx.kk.example") == "none"


def test_only_authentication_results_is_believed() -> None:
    """ARC-Authentication-Results and Authentication-Results-Original record other servers' checks."""
    raw = _msg(
        "ARC-Authentication-Results: i=1; mx.kk.example; dmarc=pass header.from=example.org\n"
        "Authentication-Results-Original: mx.kk.example; dmarc=pass header.from=example.org\n"
        f"{RECEIVED}"
    )
    assert _verified(raw, "mx.kk.example") == "none"


def test_exchange_online_compauth_fail_alone_is_a_fail() -> None:
    raw = _msg("Authentication-Results: compauth=fail reason=001\n" + RECEIVED)
    assert _verified(raw, "exchange-online") == "fail"


def test_exchange_online_ignores_headers_with_an_id_and_vice_versa() -> None:
    """exchange-online believes only the id-less form; a hostname id never believes it."""
    raw = _msg(f"{OURS} dmarc=fail\nAuthentication-Results: dmarc=pass action=none header.from=example.org")
    assert _verified(raw, "exchange-online") == "pass"
    assert _verified(raw, "mx.kk.example") == "fail"


def test_parser_follows_the_rfc_8601_grammar() -> None:
    """authserv-id as token or quoted string, a version, ``none``, a method version, properties."""
    header = authresults.parse('"mx.kk.example" 1 (comment; here); dkim/1=pass header.d=example.org')
    assert header.authserv_id == "mx.kk.example"
    assert [(r.method, r.result, r.props) for r in header.results] == [
        ("dkim", "pass", {"header.d": "example.org"})
    ]
    assert authresults.parse("mx.kk.example 1; none") == authresults.Header("mx.kk.example", ())
    folded = authresults.parse("mx.kk.example;\r\n\tspf=pass\r\n smtp.mailfrom=a@example.org")
    assert folded.results[0].props == {"smtp.mailfrom": "a@example.org"}


def test_parser_reads_microsofts_deviations() -> None:
    """No authserv-id, bare domain clauses, properties in a clause of their own, ``;`` unspaced."""
    header = authresults.parse(
        "spf=pass (sender IP is 192.0.2.25); smtp.mailfrom=raad.example; kk.example; dkim=pass "
        "(signature was verified) header.d=raad.example;kk.example;dmarc=bestguesspass action=none "
        "header.from=raad.example;compauth=pass reason=109"
    )
    assert header.authserv_id is None
    assert [(r.method, r.result) for r in header.results] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dmarc", "bestguesspass"),
        ("compauth", "pass"),
    ]
    assert header.results[0].props == {"smtp.mailfrom": "raad.example"}
    assert header.results[2].props == {"action": "none", "header.from": "raad.example"}
