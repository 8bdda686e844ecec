"""What a parsed message becomes in the log: its remarks, the text shown, its channel.

One definition each; ``services.ingesting`` applies them when it records an item.
"""

from __future__ import annotations

import re

from flows.core.message import ParsedMessage
from flows.core.model import Channel, Remark

# What an item kept whole but too large to read shows until staff write its remarks.
TOO_LARGE_TEXT = (
    "(Svaret var for stort til at blive læst automatisk og er gemt uændret; "
    "se den gemte besked og skriv dets bemærkninger her.)"
)
# An answer this short beside a filled-in template is a covering note, not a remark of its own.
COVERING_NOTE_WORDS = 40


def has_template_remarks(parsed: ParsedMessage) -> bool:
    return any(a.is_template and a.remarks for a in parsed.attachments)


def remarks_of(parsed: ParsedMessage) -> list[Remark]:
    """Template rows one remark each; otherwise the answer, plus each letter attached."""
    remarks: list[Remark] = []
    answer = parsed.answer_text.strip()
    if answer and not (has_template_remarks(parsed) and len(answer.split()) < COVERING_NOTE_WORDS):
        remarks.append(Remark(section="", text=answer))
    for attachment in parsed.attachments:
        if attachment.inline:
            continue
        if attachment.is_template:
            remarks.extend(attachment.remarks)
        elif attachment.text.strip():
            remarks.append(Remark(section=f"Bilag: {attachment.display_name}", text=attachment.text.strip()))
    return remarks


def response_text(parsed: ParsedMessage, remarks: list[Remark]) -> str:
    """The text the log shows: the answer, or each remark with its section and proposal."""
    if not has_template_remarks(parsed) and not any(r.section.startswith("Bilag") for r in remarks):
        return parsed.answer_text.strip()
    parts = []
    for remark in remarks:
        head = f"{remark.section}: " if remark.section else ""
        tail = f"\nForslag til ændring: {remark.proposal}" if remark.proposal else ""
        parts.append(f"{head}{remark.text}{tail}")
    return "\n\n".join(parts)


def channel(parsed: ParsedMessage, source: str, name: str) -> Channel:
    """A filled-in template; a file dropped by hand (not a saved ``.eml``); else e-mail."""
    if has_template_remarks(parsed):
        return Channel.TEMPLATE
    if source == "drop" and not name.lower().endswith(".eml"):
        return Channel.MANUAL
    return Channel.EMAIL


def same_text_key(text: str) -> str:
    """Two bodies under one Message-ID are the same message when these keys are equal."""
    return re.sub(r"\s+", " ", text).strip().casefold()
