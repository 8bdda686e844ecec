"""Which ``MailSource`` an inbox URL means (contract: ``HOERING_INBOX_URL``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from flows.adapters.imap_source import ImapSource, MailSourceError
from flows.adapters.ports import MailSource
from flows.settings import Settings, redact_url


def open_source(url: str, settings: Settings) -> MailSource:
    """imap:// and imaps:// → ``ImapSource``; maildir:// → ``MaildirSource`` (imported lazily)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("imap", "imaps"):
        return ImapSource(
            url,
            timeout=settings.socket_timeout,
            processed_folder=settings.imap_processed_folder,
            max_message_bytes=settings.max_message_bytes,
        )
    if scheme == "maildir":
        from flows.adapters.maildir_source import MaildirSource

        return MaildirSource(Path(unquote(url.removeprefix("maildir://"))))
    msg = f"HOERING_INBOX_URL skal være imap://, imaps:// eller maildir://, ikke {redact_url(url)}"
    raise MailSourceError(msg)
