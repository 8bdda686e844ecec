"""The one factory for the inbox: which ``MailSource`` an inbox URL means (``HOERING_INBOX_URL``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flows.adapters.imap_source import ImapSource, MailSourceError
from flows.adapters.ports import MailSource
from flows.settings import Settings, redact_url


def open_source(url: str, settings: Settings, *, known: Callable[[], set[str]] | None = None) -> MailSource:
    """The inbox a URL (``settings.inbox()``) names: imap:// and imaps:// → ``ImapSource``
    (XOAUTH2 with ``?auth=oauth2``); maildir:// → ``MaildirSource`` (its folder: ``maildir_path``).

    ``known`` gives the Maildir file names already stored, so a Maildir is not read twice.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("imap", "imaps"):
        from flows.adapters.oauth import oauth_config, token_source, wants_oauth2

        return ImapSource(
            url,
            timeout=settings.socket_timeout,
            processed_folder=settings.imap_processed_folder,
            max_message_bytes=settings.max_message_bytes,
            tokens=token_source(oauth_config(settings)) if wants_oauth2(url) else None,
            secret_block=settings.secret_block,
        )
    if scheme == "maildir":
        from flows.adapters.maildir_source import MaildirSource

        return MaildirSource(maildir_path(url), known=known)
    msg = f"HOERING_INBOX_URL skal være imap://, imaps:// eller maildir://, ikke {redact_url(url)}"
    raise MailSourceError(msg)


def maildir_path(url: str) -> Path:
    """The folder of a maildir:// URL (the demo puts its sample replies there)."""
    # not unquoted: the default is the data dir's path as it is (Settings.inbox)
    return Path(url.removeprefix("maildir://"))
