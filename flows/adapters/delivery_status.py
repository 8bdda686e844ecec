"""Delivery status notifications (RFC 3464): which recipient bounced, and which message of ours.

It exists apart from the body walk because a bounce is read for its machine-readable parts only
(``message/delivery-status`` and the returned headers), which the classifier turns into a
bounce; the human-readable part is body text like any other.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import HeaderParser

from flows.adapters.charset import decode_bytes
from flows.adapters.mail_headers import MAX_ADDRESSES, message_id, normalised_address, unfold
from flows.core.message import DeliveryReport, ParsedMessage


def payload_bytes(part: Message) -> bytes:
    """A part's payload, transfer-decoded when the encoding allows, else as the parser stored it."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: keep what the parser stored
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def is_dsn(part: Message) -> bool:
    """A ``multipart/report`` whose report-type is delivery-status."""
    try:
        report_type = part.get_param("report-type")
    except Exception:
        return False
    return isinstance(report_type, str) and report_type.strip().lower() == "delivery-status"


def read_dsn(children: list[Message], parsed: ParsedMessage) -> None:
    """The delivery reports and the returned message-id of a DSN's parts, into ``parsed``."""
    for child in children:
        ctype = child.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            parsed.delivery_reports.extend(_status_blocks(child))
        elif ctype in _RETURNED_TYPES and parsed.returned_message_id is None:
            parsed.returned_message_id = _returned_id(child)


_RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers")


def _status_blocks(part: Message) -> list[DeliveryReport]:
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [_block_fields(b) for b in payload if isinstance(b, Message)]
    else:
        blocks = _text_blocks(decode_bytes(payload_bytes(part)))
    reports = [_report(b) for b in blocks if "action" in b or "final-recipient" in b]
    return reports[:MAX_ADDRESSES]


def _block_fields(block: Message) -> dict[str, str]:
    return {str(k).lower(): unfold(str(v)) for k, v in reversed(list(block.raw_items()))}


def _text_blocks(text: str) -> list[dict[str, str]]:
    """A delivery-status body the stdlib did not split: blank-line separated header blocks."""
    blocks = []
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text):
        msg = HeaderParser(policy=policy.default).parsestr(chunk.strip() + "\n")
        blocks.append(_block_fields(msg))
    return blocks


def _report(fields: dict[str, str]) -> DeliveryReport:
    recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
    return DeliveryReport(
        recipient=_dsn_address(recipient),
        action=fields.get("action", "").strip().lower(),
        status=fields.get("status", "").strip().split(" ")[0],
        diagnostic=" ".join(fields.get("diagnostic-code", "").split())[:2000],
    )


def _dsn_address(value: str) -> str | None:
    """``rfc822; user@host`` → the normalised addr part."""
    address = value.partition(";")[2] if ";" in value else value
    address = address.strip().strip("<>").strip()
    return normalised_address(address) or address[:400] or None


def _returned_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        values = [str(v) for k, v in payload[0].raw_items() if str(k).lower() == "message-id"]
        return message_id(unfold(values[0])) if values else None
    text = decode_bytes(payload_bytes(part))
    headers = HeaderParser(policy=policy.default).parsestr(text, headersonly=True)
    values = [str(v) for k, v in headers.raw_items() if str(k).lower() == "message-id"]
    return message_id(unfold(values[0])) if values else None
