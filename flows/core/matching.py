"""Which round and which party an incoming item belongs to. Pure functions over plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flows.core.addresses import domain_of
from flows.core.message import ParsedMessage
from flows.core.quality import clean_text

TOKEN = re.compile(r"\[\s*h(?:ø|oe|o)ring\s+([a-z0-9-]+)\s*\]", re.IGNORECASE)


@dataclass
class RoundIndex:
    """What identifies a round's mail: its address, token, parties and sent Message-IDs."""

    round_id: str
    reply_to: str
    by_address: dict[str, int] = field(default_factory=dict)
    by_domain: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)
    sent_ids: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    party_id: int | None
    matched_by: str | None


def token_round(subject: str) -> str | None:
    found = TOKEN.search(subject)
    return found.group(1).lower() if found else None


def route(msg: ParsedMessage, indexes: list[RoundIndex], default: str) -> str:
    """The round an item belongs to; the collecting round when nothing says otherwise."""
    by_id = {index.round_id: index for index in indexes}
    token = token_round(msg.subject)
    if token in by_id:
        return token
    for ref in [*msg.in_reply_to, *msg.references, msg.returned_message_id or ""]:
        for index in indexes:
            if ref and ref in index.sent_ids:
                return index.round_id
    recipients = set(msg.to) | set(msg.cc)
    addressed = [i.round_id for i in indexes if i.reply_to in recipients]
    if len(addressed) == 1:
        return addressed[0]
    sender = msg.from_address or ""
    claimed = [i.round_id for i in indexes if sender in i.by_address]
    if len(claimed) == 1:
        return claimed[0]
    return default


def name_key(name: str) -> str:
    """A party name as ``by_name`` holds it: as shown (a template carries it cleaned), trimmed, casefolded."""
    return clean_text(name).strip().casefold()


def match_party(msg: ParsedMessage, index: RoundIndex) -> Match:
    """Invitation thread, then the sender's address, its domain, then a template's reference."""
    for ref in [*msg.in_reply_to, *msg.references]:
        party = index.sent_ids.get(ref)
        if party is not None:
            return Match(party, "svar på invitation")
    sender = msg.from_address
    if sender and sender in index.by_address:
        return Match(index.by_address[sender], "afsenderadresse")
    if sender and domain_of(sender) in index.by_domain:
        return Match(index.by_domain[domain_of(sender)], "domæne")
    for attachment in msg.attachments:
        template = attachment.template_ref
        if template is not None and template.round_id == index.round_id:
            party = index.by_name.get(name_key(template.party_name))
            if party is not None:
                return Match(party, "høringsskema")
    return Match(None, None)
