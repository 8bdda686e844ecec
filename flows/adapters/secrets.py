"""Passwords and client secrets, possibly kept in a Prefect Secret block.

A password in an inbox or SMTP URL may be ``block:NAME`` (``imap://user:block:imap-pass@host/INBOX``):
the text after the user's first colon is the password as ``urlsplit`` sees it, still
percent-encoded, so a literal colon there makes it a block reference. A real password that
begins with ``block:`` is written ``block%3A…``. ``HOERING_SECRET_BLOCK`` names the block that
holds the password of a URL that gives a user and no password, or the OAuth client secret.

The value is read when an adapter is built, inside the run, and kept only in memory: it is
never put back into a URL, a message or a log line.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from flows.core.errors import HoeringError, TransientError

BLOCK_PREFIX = "block:"


class SecretBlockError(HoeringError):
    """A Secret block that cannot be read (unknown name, or no Prefect API to ask)."""


class SecretBlockUnreachable(ConnectionError, TransientError):
    """The Prefect API did not answer; transient, so the task's retry may succeed."""


def block_name(raw: str | None) -> str | None:
    """The block named by a raw (still percent-encoded) password, or None for a plain password."""
    if raw is None or not raw.startswith(BLOCK_PREFIX):
        return None
    return unquote(raw.removeprefix(BLOCK_PREFIX))


def url_password(raw: str | None, *, fallback_block: str | None) -> str | None:
    """The password of a URL: literal, from ``block:NAME``, or from the fallback block when absent."""
    name = block_name(raw)
    if name is not None:
        return load_secret(name)
    if raw is not None:
        return unquote(raw)
    return load_secret(fallback_block) if fallback_block else None


def setting_secret(value: str | None, *, fallback_block: str | None) -> str | None:
    """A secret setting (``HOERING_OAUTH_CLIENT_SECRET``): literal, ``block:NAME``, or the fallback."""
    if value is not None and value.startswith(BLOCK_PREFIX):
        return load_secret(value.removeprefix(BLOCK_PREFIX))
    if value:
        return value
    return load_secret(fallback_block) if fallback_block else None


def load_secret(name: str) -> str:
    """``prefect.blocks.system.Secret.load(name)``, with errors in one line and without the value."""
    import httpx
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    if not name:
        raise SecretBlockError("en Secret-blok skal have et navn (block:NAVN)")
    try:
        # _sync: the sync path even when a caller runs inside an event loop
        block: Any = Secret.load(name, _sync=True)  # type: ignore[call-arg]
    except (ObjectNotFound, ValueError) as exc:
        msg = f"Prefect-Secret-blokken {name!r} findes ikke (opret den i Prefect under Blocks → Secret)"
        raise SecretBlockError(msg) from exc
    except (httpx.HTTPError, OSError) as exc:
        msg = f"Prefect-API'et svarer ikke, så Secret-blokken {name!r} kan ikke læses: {type(exc).__name__}"
        raise SecretBlockUnreachable(msg) from exc
    value = block.get()
    if not isinstance(value, str) or not value:
        raise SecretBlockError(f"Prefect-Secret-blokken {name!r} holder ingen tekst")
    return value
