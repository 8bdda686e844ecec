"""Who gets the final note: one mail per address, none to unverified or bounced ones."""

from __future__ import annotations

from flows.conclude import conclusion_line
from flows.core.authresults import Trust
from flows.core.conclusion import CountedSender, Left, dedupe_key, recipients


def _sender(
    address: str, trust: Trust = Trust.NONE, *, bounced: bool = False, undelivered: bool = False
) -> CountedSender:
    return CountedSender(address, "Part", 1, trust, bounced, undelivered)


def test_one_per_address_and_none_to_unverified_or_bounced() -> None:
    chosen = recipients(
        [
            _sender("a@x.example"),
            _sender("A@X.example "),
            _sender("forged@y.example", Trust.FAIL),
            _sender("gone@z.example", bounced=True),
            _sender("other@z.example", undelivered=True),
            _sender("b@x.example", Trust.PASS),
        ]
    )
    assert [s.address for s in chosen.chosen] == ["a@x.example", "b@x.example"]
    assert chosen.left == {Left.UNVERIFIED: 1, Left.BOUNCED: 2}


def test_the_dedupe_key_is_the_round_and_the_address_whatever_its_case() -> None:
    assert (
        dedupe_key("r", " Hans@Example.org")
        == dedupe_key("r", "hans@example.org")
        == "conclusion:r:hans@example.org"
    )


def test_the_command_line_says_what_was_sent_and_left_out_in_danish() -> None:
    line = conclusion_line(
        {"sent": 3, "temp_failed": 0, "perm_failed": 0, "recipients": 3, "unverified": 1, "bounced": 2}
    )
    assert line == (
        "Høringsnotatet: 3 sendt, 0 udskudt, 0 fejlet, til i alt 3 modtagere. Ikke sendt til "
        "1 uverificerede afsendere og 2 adresser, hvor invitationen ikke blev leveret."
    )
