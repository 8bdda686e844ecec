"""Attachments: identify, bound, and extract text from what parties attach.

(First version: records the file; extraction and the hostile-file limits come next.)
"""

from __future__ import annotations

import hashlib

from flows.core.message import ParsedAttachment


def inspect_attachment(name: str | None, content_type: str, data: bytes) -> ParsedAttachment:
    """A ParsedAttachment with a display-safe name; never raises."""
    return ParsedAttachment(
        display_name=(name or "ukendt").replace("/", "_").replace("\\", "_")[:200],
        content_type=content_type,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )
