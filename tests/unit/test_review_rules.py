"""The core's rules for a party's status, staff decisions, and an item's channel."""

from __future__ import annotations

from flows.core.counting import party_status
from flows.core.message import ParsedMessage
from flows.core.model import Channel, Decision, Kind, OutboxState, PartyStatus
from flows.core.responses import channel
from flows.core.review import kind_after, read_decision


def test_party_status_from_counted_responses_and_invitations() -> None:
    """Counted responses decide; with none, every invitation undelivered means not delivered."""
    bounced, failed, sent = OutboxState.BOUNCED.value, OutboxState.PERM_FAILED.value, OutboxState.SENT.value

    assert party_status(2, 1, {bounced}) is PartyStatus.ANSWERED
    assert party_status(1, 0, set()) is PartyStatus.NO_REMARKS
    assert party_status(0, 0, {bounced, failed}) is PartyStatus.UNDELIVERED
    assert party_status(0, 0, {bounced, sent}) is PartyStatus.NOT_ANSWERED
    assert party_status(0, 0, set()) is PartyStatus.NOT_ANSWERED


def test_what_staff_type_in_beslutning() -> None:
    """Any case and spaces read as the decision; anything else is no decision."""
    assert read_decision(" medtag ") is Decision.INCLUDE
    assert read_decision("AFVIS") is Decision.REJECT
    assert read_decision("måske") is None
    assert read_decision("") is None


def test_medtag_makes_a_set_aside_item_a_response_and_afvis_changes_no_kind() -> None:
    """A bounce, an auto-reply or an unreadable item becomes a response; a duplicate stays one."""
    assert kind_after(Decision.INCLUDE, Kind.BOUNCE.value) == Kind.RESPONSE
    assert kind_after(Decision.INCLUDE, Kind.UNREADABLE.value) == Kind.RESPONSE
    assert kind_after(Decision.INCLUDE, Kind.DUPLICATE.value) == Kind.DUPLICATE
    assert kind_after(Decision.REJECT, Kind.BOUNCE.value) == Kind.BOUNCE


def test_the_channel_of_an_item() -> None:
    """A saved .eml in the drop folder is e-mail; any other dropped file was entered by hand."""
    parsed = ParsedMessage(message_id=None, subject="", from_address="a@b.example", from_display="")

    assert channel(parsed, "imap", "17") is Channel.EMAIL
    assert channel(parsed, "drop", "svar.EML") is Channel.EMAIL
    assert channel(parsed, "drop", "brev.pdf") is Channel.MANUAL
