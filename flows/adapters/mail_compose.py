"""Build the e-mails hoering sends, from the Danish templates in ``config/mail_da.toml``."""

from __future__ import annotations

import mimetypes
import re
import tomllib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from functools import cache
from pathlib import Path
from string import Template

from flows.core.quality import clean_text
from flows.resources import required

LOOP_HEADER = "X-Hoering-Loop"


@dataclass(frozen=True)
class OutgoingAttachment:
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Outgoing:
    """Everything needed to render one message deterministically."""

    template: str
    values: dict[str, str]
    sender: str
    sender_name: str
    recipient: str
    reply_to: str
    message_id: str
    round_id: str
    auto_submitted: str = "auto-generated"
    in_reply_to: str | None = None
    attachments: list[OutgoingAttachment] = field(default_factory=list)


@cache
def templates() -> dict[str, dict[str, str]]:
    with required("config/mail_da.toml").open("rb") as handle:
        return tomllib.load(handle)


def one_line(text: str) -> str:
    """Header-safe: no CR, LF or NUL from anything that came from outside."""
    return re.sub(r"[\r\n\x00]+", " ", text).strip()


def render(template: str, values: dict[str, str]) -> tuple[str, str]:
    spec = templates()[template]
    # Values hold outside text (a party's name, the subject a receipt echoes): shown cleaned, with
    # no bidi override or zero-width character to make the message read other than it is.
    values = {key: clean_text(value) for key, value in values.items()}
    subject = one_line(Template(spec["subject"]).safe_substitute(values))
    body = Template(spec["body"]).safe_substitute(values)
    return subject, body


def compose(out: Outgoing) -> EmailMessage:
    subject, body = render(out.template, out.values)
    message = EmailMessage()
    message["From"] = formataddr((one_line(out.sender_name), out.sender))
    message["To"] = out.recipient
    message["Reply-To"] = out.reply_to
    message["Subject"] = subject
    message["Message-ID"] = out.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if out.in_reply_to:
        message["In-Reply-To"] = out.in_reply_to
        message["References"] = out.in_reply_to
    # RFC 3834 and Exchange's suppression header keep out-of-office replies from answering us;
    # our own loop header lets collection recognise our mail coming back.
    message["Auto-Submitted"] = out.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = out.round_id
    message.set_content(body)
    for attachment in out.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def attachment_from_path_type(path: Path) -> str:
    """The content type an attachment named like ``path`` is sent with."""
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"
