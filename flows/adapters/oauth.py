"""OAuth 2.0 client credentials for Microsoft 365 (IMAP and SMTP over SASL XOAUTH2), via msal.

Exchange Online takes no passwords for IMAP, and SMTP AUTH with a password is off by default
from the end of 2026. An app registration in Entra ID with the application permissions
``IMAP.AccessAsApp`` and ``SMTP.SendAsApp`` gets a token for the scope
``https://outlook.office365.com/.default`` with its client secret or certificate; the token
goes to the server as ``user=<mailbox>^Aauth=Bearer <token>^A^A`` (deployments/README.md).

Why it is built this way:

* one ``TokenSource`` per app registration and process, so IMAP and SMTP and every adapter in
  the run share msal's token cache; on top of it our own expiry check, because msal treats a
  token with less than five minutes left as expired and a short-lived one would be fetched
  again on every call;
* a token is renewed when less than half its life or five minutes is left, whichever is less;
  the adapters ask before each new connection and each IMAP batch, so a long collect or send
  reconnects with a fresh token instead of failing when the old one runs out;
* a refusal is classified and explained in one line naming the Microsoft 365 step that is
  missing; it is permanent (``HoeringError``), so no retry is attempted, while a token endpoint
  that does not answer is transient (``ConnectionError``) and is retried;
* the token and the client secret never reach a log line, an exception or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.core.errors import HoeringError, TransientError

if TYPE_CHECKING:
    from flows.settings import Settings

SCOPE = "https://outlook.office365.com/.default"
IMAP_PERMISSION = "IMAP.AccessAsApp"
SMTP_PERMISSION = "SMTP.SendAsApp"
RENEW_MARGIN_SECONDS = 300.0

_AADSTS = re.compile(r"\bAADSTS(\d+)")
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL)
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class Microsoft365Error(HoeringError):
    """Microsoft 365 refused us; the message names the set-up step that is missing (permanent)."""


class TokenEndpointUnreachable(ConnectionError, TransientError):
    """The token endpoint did not answer; transient, so a retry may succeed."""


@dataclass(frozen=True)
class OAuthConfig:
    """An app registration's client credentials; ``repr`` never shows the secret."""

    tenant: str
    client_id: str
    authority: str
    client_secret: str | None = field(default=None, repr=False)
    certificate: Path | None = None
    timeout: float = 30.0

    @property
    def authority_url(self) -> str:
        return self.authority.replace("{tenant}", self.tenant).rstrip("/")

    def key(self) -> tuple[str, str, str, str]:
        credential = str(self.certificate) if self.certificate else f"secret:{hash(self.client_secret)}"
        return (self.authority_url, self.tenant, self.client_id, credential)


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float
    lifetime: float

    def due(self, now: float | None = None) -> bool:
        """Renew now? When less than half its life (at most five minutes) is left."""
        left = self.expires_at - (time.time() if now is None else now)
        return left < min(RENEW_MARGIN_SECONDS, self.lifetime / 2)

    def roles(self) -> list[str] | None:
        """The application permissions the token carries (its ``roles`` claim), if it is a JWT."""
        parts = self.value.split(".")
        if len(parts) != 3:
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (binascii.Error, ValueError):
            return None
        roles = claims.get("roles") if isinstance(claims, dict) else None
        return [str(r) for r in roles] if isinstance(roles, list) else None


def xoauth2(user: str, token: AccessToken) -> str:
    """The SASL XOAUTH2 initial response (before base64, which imaplib and smtplib add)."""
    return f"user={user}\x01auth=Bearer {token.value}\x01\x01"


class TokenSource:
    """Tokens for one app registration: msal's cache plus our own renewal rule; thread-safe."""

    def __init__(self, config: OAuthConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._app: Any = None
        self._token: AccessToken | None = None

    def __repr__(self) -> str:
        return f"TokenSource(tenant={self.config.tenant!r}, client_id={self.config.client_id!r})"

    def token(self) -> AccessToken:
        """A token with enough life left, fetched from the token endpoint only when needed."""
        with self._lock:
            if self._token is None or self._token.due():
                self._token = self._fetch()
            return self._token

    def _fetch(self) -> AccessToken:
        import requests

        try:
            result = self._msal().acquire_token_for_client(scopes=[SCOPE])
        except requests.RequestException as exc:
            msg = f"Microsoft Entra ID ({self.config.authority_url}) svarer ikke: {type(exc).__name__}"
            raise TokenEndpointUnreachable(msg) from exc
        if "access_token" not in result:
            raise Microsoft365Error(_explain_token_error(self.config, result))
        lifetime = float(result.get("expires_in") or 0)
        return AccessToken(str(result["access_token"]), time.time() + lifetime, lifetime)

    def _msal(self) -> Any:
        if self._app is not None:
            return self._app
        import msal
        import requests

        config = self.config
        credential: str | dict[str, str] | None = config.client_secret
        if config.certificate is not None:
            credential = _certificate_credential(config.certificate)
        # a sovereign cloud or a test endpoint is not in Microsoft's list of instances
        public = _is_public_cloud(config.authority_url)
        if not credential:
            msg = "Microsoft 365: angiv HOERING_OAUTH_CLIENT_SECRET, HOERING_OAUTH_CERTIFICATE eller HOERING_SECRET_BLOCK"
            raise Microsoft365Error(msg)
        try:
            self._app = msal.ConfidentialClientApplication(
                config.client_id,
                client_credential=credential,
                authority=config.authority_url,
                validate_authority=public,
                instance_discovery=public,
                timeout=config.timeout,
            )
        except requests.RequestException as exc:
            msg = f"Microsoft Entra ID ({config.authority_url}) svarer ikke: {type(exc).__name__}"
            raise TokenEndpointUnreachable(msg) from exc
        except ValueError as exc:
            msg = (
                f"Microsoft 365: lejeren {config.tenant!r} findes ikke hos {config.authority_url} "
                "(ret HOERING_OAUTH_TENANT til lejerens id eller domæne, se Entra ID → Overview)"
            )
            raise Microsoft365Error(msg) from exc
        return self._app


_sources: dict[tuple[str, str, str, str], TokenSource] = {}
_sources_lock = threading.Lock()


def token_source(config: OAuthConfig) -> TokenSource:
    """The process's one ``TokenSource`` for these credentials (a shared token cache)."""
    with _sources_lock:
        source = _sources.get(config.key())
        if source is None:
            source = _sources[config.key()] = TokenSource(config)
        return source


def _is_public_cloud(authority_url: str) -> bool:
    return authority_url.startswith("https://login.microsoftonline.com/")


def _certificate_credential(path: Path) -> dict[str, str]:
    """msal's credential from one PEM file holding the private key and the certificate."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise Microsoft365Error(f"HOERING_OAUTH_CERTIFICATE {path} kan ikke læses: {exc}") from exc
    key, certs = _PEM_KEY.search(text), _PEM_CERT.findall(text)
    if key is None or not certs:
        msg = f"HOERING_OAUTH_CERTIFICATE {path} skal være én PEM-fil med privat nøgle og certifikat"
        raise Microsoft365Error(msg)
    # without a thumbprint msal computes the SHA-256 one from the certificate (msal >= 1.35)
    return {"private_key": key.group(0), "public_certificate": "\n".join(certs)}


def _explain_token_error(config: OAuthConfig, result: dict[str, Any]) -> str:
    codes = {int(c) for c in result.get("error_codes") or [] if str(c).isdigit()}
    codes |= {int(c) for c in _AADSTS.findall(str(result.get("error_description") or ""))}
    where = "Microsoft 365 (Entra ID)"
    if codes & {7000215, 7000222}:
        return (
            f"{where}: klienthemmeligheden er forkert eller udløbet: lav en ny under app-registreringens "
            "Certificates & secrets og sæt HOERING_OAUTH_CLIENT_SECRET (eller Secret-blokken)"
        )
    if codes & {700027, 700023, 700021, 7000274}:
        return (
            f"{where}: certifikatet i HOERING_OAUTH_CERTIFICATE er ikke uploadet til app-registreringen "
            "(Certificates & secrets → Certificates)"
        )
    if codes & {700016}:
        return (
            f"{where}: app-registreringen {config.client_id} findes ikke i lejeren {config.tenant}: "
            "registrér appen i Entra ID (App registrations) og sæt HOERING_OAUTH_CLIENT_ID til dens Application ID"
        )
    if codes & {90002, 900023, 90072}:
        return f"{where}: lejeren {config.tenant!r} findes ikke: ret HOERING_OAUTH_TENANT"
    if codes & {65001, 500011, 7000112}:
        return (
            f"{where}: Office 365 Exchange Online er ikke givet til appen: tilføj API-tilladelserne "
            f"{IMAP_PERMISSION} og {SMTP_PERMISSION} og giv administratorsamtykke (Grant admin consent)"
        )
    code = ", ".join(f"AADSTS{c}" for c in sorted(codes)) or str(result.get("error") or "ukendt fejl")
    return f"{where} udstedte intet token ({code}): se app-registreringen i Entra ID"


def explain_refusal(protocol: str, mailbox: str, token: AccessToken) -> str:
    """One line for a server that refused a token it was given: which set-up step is missing."""
    permission = IMAP_PERMISSION if protocol == "IMAP" else SMTP_PERMISSION
    grant = (
        "Add-MailboxPermission -Identity <postkasse> -User <tjenesteprincipal> -AccessRights FullAccess"
        if protocol == "IMAP"
        else "Add-RecipientPermission -Identity <postkasse> -Trustee <tjenesteprincipal> -AccessRights SendAs"
    )
    roles = token.roles()
    if roles is not None and permission not in roles:
        return (
            f"Microsoft 365 afviste {protocol}-login for {mailbox}: appen mangler API-tilladelsen "
            f"{permission} (Office 365 Exchange Online, Application) med administratorsamtykke"
        )
    return (
        f"Microsoft 365 afviste {protocol}-login for {mailbox} trods gyldigt token med {permission}: "
        f"appens tjenesteprincipal er ikke oprettet i Exchange Online (New-ServicePrincipal), "
        f"eller den har ikke adgang til postkassen ({grant})"
    )


def wants_oauth2(url: str) -> bool:
    """Does an inbox or SMTP URL ask for XOAUTH2 (``…?auth=oauth2``)?"""
    from urllib.parse import parse_qs, urlsplit

    return [v.lower() for v in parse_qs(urlsplit(url).query).get("auth", [])] == ["oauth2"]


def oauth_config(settings: Settings) -> OAuthConfig:
    """The app registration from the settings; the client secret read now (maybe from a block)."""
    from flows.adapters.secrets import setting_secret

    if not settings.oauth_tenant or not settings.oauth_client_id:
        msg = "?auth=oauth2 kræver HOERING_OAUTH_TENANT og HOERING_OAUTH_CLIENT_ID (deployments/README.md)"
        raise Microsoft365Error(msg)
    secret = None
    if settings.oauth_certificate is None:
        raw = settings.oauth_client_secret.get_secret_value() if settings.oauth_client_secret else None
        secret = setting_secret(raw, fallback_block=settings.secret_block)
    return OAuthConfig(
        tenant=settings.oauth_tenant,
        client_id=settings.oauth_client_id,
        authority=settings.oauth_authority,
        client_secret=secret,
        certificate=settings.oauth_certificate,
        timeout=settings.socket_timeout,
    )
