"""The aiosmtpd test server with AUTH: SASL XOAUTH2 checked like Exchange Online, or a password.

XOAUTH2 is an ``auth_XOAUTH2`` method on the handler (aiosmtpd's hook for a custom mechanism);
the token is checked against the loopback identity provider (tests/support/identity.py): it must
be unexpired, carry ``SMTP.SendAsApp`` and the app must have been given the mailbox. Every
successful login is counted in ``logins`` (so a test sees a reconnect with a new token).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.identity import SMTP_ROLE, IdentityProvider
from tests.support.smtpserver import SmtpTestServer, _Handler, free_port


@dataclass
class _AuthHandler(_Handler):
    idp: IdentityProvider | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, user)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            fields = base64.b64decode(args[1], validate=True).decode().split("\x01")
        except (binascii.Error, UnicodeDecodeError):
            return AuthResult(success=False, handled=False)
        values = dict(f.split("=", 1) for f in fields if "=" in f)
        user, bearer = values.get("user", ""), values.get("auth", "")
        token = bearer.removeprefix("Bearer ")
        if self.idp is None or not self.idp.allows(token, user, SMTP_ROLE):
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        with self.lock:
            self.logins.append(("XOAUTH2", user))
        return AuthResult(success=True, auth_data=user)


class AuthSmtpServer(SmtpTestServer):
    """``SmtpTestServer`` that takes XOAUTH2 (with ``idp``) and/or PLAIN/LOGIN with ``password``."""

    def __init__(self, *, idp: IdentityProvider | None = None, password: str | None = None) -> None:
        self.handler = _AuthHandler(idp=idp)
        self._port = free_port()
        self.password = password
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self._port,
            auth_require_tls=False,
            authenticator=self._check_password,
        )

    def _check_password(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            self.password is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.password == self.password.encode()
        )
        if ok:
            with self.handler.lock:
                self.handler.logins.append((mechanism, auth_data.login.decode()))
        return AuthResult(success=ok, handled=False)

    @property
    def logins(self) -> list[tuple[str, str]]:
        return self.handler.logins
