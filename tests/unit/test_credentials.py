"""The pure parts of credentials: the one URL redactor, block references, token renewal, roles."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from flows.adapters.oauth import (
    AccessToken,
    OAuthConfig,
    TokenEndpointUnreachable,
    explain_refusal,
    wants_oauth2,
)
from flows.adapters.secrets import SecretBlockUnreachable, block_name, url_password
from flows.adapters.smtp_mailer import parse_smtp_url
from flows.notify import plain_reason
from flows.runtime import is_transient
from flows.settings import redact_url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("imap://u%40kk.dk:s3cr3t@mail.kk.dk:993/INBOX", "imap://u%40kk.dk:***@mail.kk.dk:993/INBOX"),
        ("smtp://u:p@ss@smtp.kk.dk:587", "smtp://u:***@smtp.kk.dk:587"),  # an unencoded "@" in it
        ("imap://u:block:imap-pass@h/INBOX", "imap://u:***@h/INBOX"),
        ("imaps://hoering%40kk.dk@outlook.office365.com/INBOX?auth=oauth2", None),
        ("smtp://smtp.kk.dk:587 and mail to a@b.dk", None),
        (
            "fejl: imap://a:x@h1/INBOX og smtp://b:y@h2:25",
            "fejl: imap://a:***@h1/INBOX og smtp://b:***@h2:25",
        ),
    ],
)
def test_one_redactor_for_urls_in_any_text(text: str, expected: str | None) -> None:
    """Passwords go, users, hosts and the rest stay; text without a password is unchanged."""
    assert redact_url(text) == (expected or text)


def test_the_failure_mail_uses_the_same_redactor() -> None:
    assert plain_reason("login: smtp://u:p@ss@h:25 afvist") == "login: smtp://u:***@h:25 afvist"


def test_block_references_are_raw_with_a_literal_colon() -> None:
    """``block:NAME`` is a reference; ``block%3A…`` is a password that merely starts with "block:"."""
    assert block_name("block:imap-pass") == "imap-pass"
    assert block_name("block%3Aimap-pass") is None
    assert url_password("block%3Aimap-pass", fallback_block=None) == "block:imap-pass"
    assert url_password("s%40ft", fallback_block=None) == "s@ft"
    assert url_password(None, fallback_block=None) is None


def test_smtp_url_with_oauth2_needs_no_password() -> None:
    target = parse_smtp_url("smtp://hoering%40kommune.dk@smtp.office365.com:587?auth=oauth2")
    assert (target.user, target.password, target.oauth2, target.port) == (
        "hoering@kommune.dk",
        None,
        True,
        587,
    )
    assert wants_oauth2("imaps://x@outlook.office365.com/INBOX?auth=oauth2")
    assert not wants_oauth2("imaps://x:y@outlook.office365.com/INBOX")


def test_a_token_is_renewed_before_it_runs_out() -> None:
    """Half its life, at most five minutes, before expiry; never after it is already stale."""
    hour = AccessToken("t", expires_at=10_000.0, lifetime=3600)
    assert not hour.due(now=10_000.0 - 301) and hour.due(now=10_000.0 - 299)
    short = AccessToken("t", expires_at=100.0, lifetime=4)
    assert not short.due(now=97.9) and short.due(now=98.1)


def _jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


def test_a_refusal_names_the_missing_step_from_the_tokens_roles() -> None:
    no_role = AccessToken(_jwt({"roles": ["SMTP.SendAsApp"]}), 0, 1)
    with_role = AccessToken(_jwt({"roles": ["IMAP.AccessAsApp", "SMTP.SendAsApp"]}), 0, 1)
    opaque = AccessToken("not-a-jwt", 0, 1)

    assert "API-tilladelsen IMAP.AccessAsApp" in explain_refusal("IMAP", "h@kk.dk", no_role)
    assert "Add-MailboxPermission" in explain_refusal("IMAP", "h@kk.dk", with_role)
    assert "Add-RecipientPermission" in explain_refusal("SMTP", "h@kk.dk", with_role)
    assert "New-ServicePrincipal" in explain_refusal("SMTP", "h@kk.dk", opaque)


def test_secrets_never_in_repr() -> None:
    config = OAuthConfig("t", "c", "https://login.microsoftonline.com/{tenant}", client_secret="hemmelig")
    token = AccessToken("tokenværdi", 0, 1)
    target = parse_smtp_url("smtp://u:hemmelig@h:25")
    assert all("hemmelig" not in repr(x) and "tokenværdi" not in repr(x) for x in (config, token, target))
    assert config.authority_url == "https://login.microsoftonline.com/t"
    assert OAuthConfig("t", "c", "https://x", certificate=Path("/k.pem")).key()[-1] == "/k.pem"


def test_unreachable_endpoints_are_transient() -> None:
    assert is_transient(TokenEndpointUnreachable("x")) and is_transient(SecretBlockUnreachable("x"))
