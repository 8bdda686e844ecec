"""Files staff drop in by hand, and items too large to parse, turned into a ``ParsedMessage``."""

from __future__ import annotations

import mimetypes

from flows.adapters.attachments import inspect_attachment
from flows.adapters.file_guard import sanitise_name
from flows.adapters.mailparse import parse_headers, parse_message
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
    elif not attachment.text.strip() and not attachment.remarks:
        parsed.problems.append(NO_TEXT)
    return parsed


NO_TEXT = (
    "Ingen tekst kunne læses automatisk fra filen (fx et billede, en scannet side eller en ukendt "
    "filtype) – gemt uændret; se filen"
)


def parse_too_large(name: str, source: str, head: bytes, size: int) -> ParsedMessage:
    """An item over the parse limit: kept whole in the raw store, but only its headers are read.

    Mail keeps its sender and subject (so staff see who sent it); a dropped letter has none.
    """
    reason = too_large_reason(size)
    if source == "drop" and not name.lower().endswith(".eml"):
        parsed = ParsedMessage(
            message_id=None, subject=sanitise_name(name), from_address=None, from_display=""
        )
        parsed.problems.append(reason)
        return parsed
    return parse_headers(head, reason)


def too_large_reason(size: int) -> str:
    return f"For stor til at læse automatisk ({megabytes(size)}) – gemt uændret; afgør om den skal medtages"


def megabytes(size: int) -> str:
    """ "312,4 MB" (MB of 1,048,576 bytes, as Windows and Outlook show file sizes)."""
    return f"{size / (1024 * 1024):.1f}".replace(".", ",") + " MB"
