"""Files staff drop in by hand, turned into the same ParsedMessage as mail."""

from __future__ import annotations

import mimetypes

from flows.adapters.attachments import inspect_attachment
from flows.adapters.mailparse import parse_message
from flows.core.message import ParsedMessage


def parse_dropped_file(name: str, data: bytes, *, max_bytes: int) -> ParsedMessage:
    """An ``.eml`` is mail; anything else is a letter typed or scanned in, with no sender."""
    if name.lower().endswith(".eml"):
        return parse_message(data, max_bytes=max_bytes)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    attachment = inspect_attachment(name, content_type, data)
    parsed = ParsedMessage(
        message_id=None,
        subject=attachment.display_name,
        from_address=None,
        from_display="",
        body_text=attachment.text,
        answer_text=attachment.text,
        attachments=[attachment],
    )
    if attachment.problem:
        parsed.problems.append(f"{attachment.display_name}: {attachment.problem}")
    return parsed
