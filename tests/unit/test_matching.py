"""match_party by a returned template's reference, when the sender's address says nothing."""

from __future__ import annotations

import pytest

from flows.core.matching import RoundIndex, match_party, name_key
from flows.core.message import ParsedAttachment, ParsedMessage, TemplateRef


def _from_stranger_with_template(party_name: str) -> ParsedMessage:
    attachment = ParsedAttachment(
        "skema.xlsx", "application/octet-stream", b"", "0", template_ref=TemplateRef("r-2025", party_name)
    )
    return ParsedMessage(None, "Svar", "kollega@privat.example", "", attachments=[attachment])


@pytest.mark.parametrize(
    ("registered", "in_template"),
    [
        ("Æld\u202erådet", "Ældrådet"),  # the template holds the name as shown: no bidi override
        ("\t=Ældrådet", "=Ældrådet"),  # the reader trims a cell's ends
        ("ÆLDRÅDET", "ældrådet"),
    ],
)
def test_template_reference_finds_its_party_by_the_name_as_shown(registered: str, in_template: str) -> None:
    """The name written into the template (cleaned) matches the party's name as registered."""
    index = RoundIndex("r-2025", "hoering@kk.example", by_name={name_key(registered): 7})
    assert match_party(_from_stranger_with_template(in_template), index).party_id == 7
