"""Sending over SMTP: one transaction per recipient, each reply mapped to a ``SendResult``.

Why it is built this way (intake-reliability.md §3.5, §3.6):

* one recipient per transaction, so a partial refusal never makes us resend to someone who
  already has the message; smtplib returns partial refusals as a dict, not an exception;
* smtplib raises the same exception class for 4xx and 5xx, so the code decides temp vs perm;
* a connection lost after DATA was sent but before the final reply is "unknown": the server
  may have accepted it, and the caller resends with the same Message-ID;
* every socket has a timeout, and the connection is reused and reopened when the server drops
  it (servers close idle sessions);
* a token bucket keeps us under the provider's rate (Exchange Online: 30 messages a minute);
* ``…?auth=oauth2`` logs in with SASL XOAUTH2 (Microsoft 365); a connection whose token is due
  for renewal is closed before the next message and reopened with a fresh token, and a refused
  login raises ``SmtpAuthError`` from ``check_login`` before any outbox row is claimed.
"""

from __future__ import annotations

import copy
import logging
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import getaddresses
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from flows.adapters.file_mailer import FileMailer, write_durably
from flows.adapters.oauth import AccessToken, TokenSource, explain_refusal, wants_oauth2, xoauth2
from flows.adapters.ports import SendResult
from flows.adapters.secrets import url_password
from flows.core.errors import HoeringError
from flows.settings import redact_url

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError)


class SmtpConfigError(ValueError):
    """The SMTP URL cannot be used."""


class SmtpAuthError(HoeringError):
    """The SMTP server refused our login; permanent until someone fixes the settings."""


@dataclass(frozen=True)
class SmtpTarget:
    """What the URL says; ``password`` never reaches a log line (see ``__repr__``)."""

    implicit_tls: bool
    host: str
    port: int
    user: str | None
    password: str | None
    oauth2: bool = False

    def __repr__(self) -> str:
        return (
            f"SmtpTarget(host={self.host!r}, port={self.port}, user={self.user!r}, tls={self.implicit_tls}, "
            f"oauth2={self.oauth2})"
        )


def parse_smtp_url(url: str, *, secret_block: str | None = None) -> SmtpTarget:
    """The URL's parts; a ``block:NAME`` password (or ``secret_block``) is read from Prefect here."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        msg = f"HOERING_SMTP_URL skal være smtp://… eller smtps://…, ikke {redact_url(url)}"
        raise SmtpConfigError(msg)
    implicit = parts.scheme == "smtps"
    oauth2 = wants_oauth2(url)
    if oauth2 and not parts.username:
        raise SmtpConfigError("HOERING_SMTP_URL med ?auth=oauth2 skal nævne postkassen som bruger")
    password = None
    if parts.username and not oauth2:
        password = url_password(parts.password, fallback_block=secret_block)
    return SmtpTarget(
        implicit_tls=implicit,
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587),
        user=unquote(parts.username) if parts.username else None,
        password=password,
        oauth2=oauth2,
    )


class TokenBucket:
    """``rate_per_minute`` sends a minute on average, bursts of at most ``capacity``."""

    def __init__(
        self,
        rate_per_minute: float,
        *,
        capacity: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.capacity = capacity
        self.tokens = capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()

    def take(self) -> None:
        if self.rate <= 0:
            return
        self._refill()
        if self.tokens < 1.0:
            self.sleep((1.0 - self.tokens) / self.rate)
            self._refill()
        self.tokens = max(0.0, self.tokens - 1.0)

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now


class SmtpMailer:
    """``Mailer`` over SMTP/SMTPS; not thread-safe (one outbox relay uses one mailer)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        rate_per_minute: float = 30.0,
        tls_verify: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        local_hostname: str | None = None,
        tokens: TokenSource | None = None,
        secret_block: str | None = None,
        copies: Path | None = None,
    ) -> None:
        self.target = parse_smtp_url(url, secret_block=secret_block)
        # The bytes handed to the server are kept here (DATA_DIR/outbox), named as the embedded
        # outbox names its files: the case file holds what was sent, not a later rendering.
        self.copies = FileMailer(copies) if copies is not None else None
        if self.target.oauth2 and tokens is None:
            raise SmtpConfigError("HOERING_SMTP_URL beder om ?auth=oauth2, men der er ingen OAuth-opsætning")
        self.tokens = tokens if self.target.oauth2 else None
        self._token: AccessToken | None = None
        self.timeout = timeout
        self.tls_verify = tls_verify
        self.local_hostname = local_hostname
        self.bucket = TokenBucket(rate_per_minute, clock=clock, sleep=sleep)
        self._smtp: smtplib.SMTP | None = None

    # -- the Mailer protocol ------------------------------------------------------------------

    def send(self, message: EmailMessage, recipient: str) -> SendResult:
        """One SMTP transaction to ``recipient``; never raises for an SMTP or network failure."""
        self.bucket.take()
        try:
            smtp = self._connection()
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            return SendResult("perm_failed", exc.smtp_code, self._refusal(exc))
        except (*_CONNECTION_ERRORS, smtplib.SMTPException) as exc:
            self.close()
            return SendResult("temp_failed", None, f"forbindelse mislykkedes: {_describe(exc)}")
        return self._transaction(smtp, message, recipient)

    def check_login(self) -> None:
        """Log in now, before any message is claimed: a refusal raises ``SmtpAuthError`` (one line).

        Network trouble is left for ``send`` to report per message as a temporary failure.
        """
        try:
            self._connection()
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SmtpAuthError(self._refusal(exc)) from exc
        except (*_CONNECTION_ERRORS, smtplib.SMTPException) as exc:
            self.close()
            log.info("SMTP server not reachable before sending: %s", _describe(exc))  # send reports it

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (*_CONNECTION_ERRORS, smtplib.SMTPException):
            smtp.close()

    # -- one transaction ----------------------------------------------------------------------

    def _transaction(self, smtp: smtplib.SMTP, message: EmailMessage, recipient: str) -> SendResult:
        sender = _envelope_sender(message)
        tracked = smtp if isinstance(smtp, _TrackingSMTP) else None
        if tracked is not None:
            tracked.data_sent, tracked.data_reply = False, b""
        data, options = _flatten(message, sender, recipient)
        kept = self._keep(message, recipient, data)
        try:
            smtp.ehlo_or_helo_if_needed()
            if options and not smtp.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("the addresses need SMTPUTF8, which the server lacks")
            refused = smtp.sendmail(sender, [recipient], data, options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, next(iter(exc.recipients.values()), (None, b"")))
            return _by_code(code, text)
        except smtplib.SMTPResponseException as exc:
            # SMTPSenderRefused, SMTPDataError and the rest; smtplib has already sent RSET
            if exc.smtp_code == 421:
                self.close()
            return _by_code(exc.smtp_code, exc.smtp_error)
        except _CONNECTION_ERRORS as exc:
            self.close()
            return self._lost(tracked, exc, kept)
        if recipient in refused:  # a partial refusal is a dict, not an exception
            return _by_code(*refused[recipient])
        return SendResult("sent", 250, _text(tracked.data_reply if tracked else b""), kept)

    def _keep(self, message: EmailMessage, recipient: str, data: bytes) -> str | None:
        if self.copies is None:
            return None
        path = self.copies.path_for(message, recipient)
        write_durably(path, data)  # a retry renders again (a new Date): the last attempt's bytes win
        return str(path)

    def _lost(self, tracked: _TrackingSMTP | None, exc: BaseException, kept: str | None) -> SendResult:
        """Cut off: after DATA went out the server may have the message, so it is "unknown"."""
        if tracked is None or tracked.data_sent:
            log.warning("SMTP connection lost after DATA; the message may have been delivered")
            return SendResult(
                "unknown", None, f"forbindelsen blev afbrudt efter DATA: {_describe(exc)}", kept
            )
        return SendResult("temp_failed", None, f"forbindelsen blev afbrudt: {_describe(exc)}")

    # -- the connection -----------------------------------------------------------------------

    def _refusal(self, exc: smtplib.SMTPAuthenticationError) -> str:
        if self._token is not None:
            return explain_refusal("SMTP", self.target.user or "", self._token)
        return f"SMTP-login afvist for {self.target.user}@{self.target.host}: {_text(exc.smtp_error)}"

    def _connection(self) -> smtplib.SMTP:
        if self._token is not None and self._token.due():
            log.info("SMTP token is due for renewal; reconnecting")
            self.close()
        if self._smtp is not None and self._alive(self._smtp):
            return self._smtp
        self.close()
        self._smtp = self._open()
        return self._smtp

    def _alive(self, smtp: smtplib.SMTP) -> bool:
        try:
            return smtp.noop()[0] == 250
        except (*_CONNECTION_ERRORS, smtplib.SMTPException):
            return False

    def _open(self) -> smtplib.SMTP:
        t = self.target
        log.debug("connecting to %r", t)
        context = self._tls_context()
        smtp: smtplib.SMTP
        if t.implicit_tls:
            smtp = _TrackingSMTP_SSL(
                t.host, t.port, timeout=self.timeout, context=context, local_hostname=self.local_hostname
            )
        else:
            smtp = _TrackingSMTP(t.host, t.port, timeout=self.timeout, local_hostname=self.local_hostname)
        try:
            smtp.ehlo()
            if not t.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()  # capabilities change after STARTTLS (AUTH often appears only now)
            if t.oauth2 and self.tokens is not None and t.user:
                self._token = self.tokens.token()
                sasl = xoauth2(t.user, self._token)
                # an error arrives as a 334 challenge (JSON); answering it empty gets the 535
                smtp.auth("XOAUTH2", lambda challenge=None: "" if challenge else sasl)
            elif t.user:
                smtp.login(t.user, t.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.tls_verify:
            # only for test relays with a self-signed certificate; the caller opts in explicitly
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


class _TrackingSMTP(smtplib.SMTP):
    """Remembers whether DATA went out and the final reply to it, per transaction.

    After DATA the server may hold the message even if we never see its reply, so a cut from
    then on must read as "unknown", never as a plain retryable failure.
    """

    data_sent = False
    data_reply = b""

    def putcmd(self, cmd: str, args: str = "") -> None:
        super().putcmd(cmd, args)
        if cmd.lower() == "data":
            self.data_sent = True

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        code, reply = super().data(msg)
        self.data_reply = reply
        return code, reply


class _TrackingSMTP_SSL(_TrackingSMTP, smtplib.SMTP_SSL):
    """SMTP_SSL with the same tracking (the MRO puts our overrides first)."""


def _by_code(code: int | None, text: bytes | str) -> SendResult:
    message = _text(text)
    if code is not None and 200 <= code < 300:
        return SendResult("sent", code, message)
    if code is not None and 400 <= code < 500:
        return SendResult("temp_failed", code, message)
    if code is not None and code >= 500:
        return SendResult("perm_failed", code, message)
    return SendResult("temp_failed", code, message or "uventet svar fra mailserveren")


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value or ""


def _envelope_sender(message: EmailMessage) -> str:
    """An explicit Return-Path (a VERP address) is the envelope sender; else Sender, else From.

    (The choice ``smtplib.send_message`` makes when it is given none.)
    """
    value = message.get("Return-Path")
    explicit = str(value).strip().strip("<>") if value else ""
    if explicit:
        return explicit
    header = message["Sender"] if "Sender" in message else message["From"]
    return getaddresses([str(header or "")])[0][1]


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, socket.timeout | TimeoutError):
        text = "tidsgrænsen blev overskredet"
    return text[:500]


def _flatten(message: EmailMessage, sender: str, recipient: str) -> tuple[bytes, list[str]]:
    """The message as ``smtplib.send_message`` would transmit it, and the MAIL options it needs.

    Flattened once here, so the copy kept and the bytes sent are the same bytes (a multipart
    boundary is chosen at flattening).
    """
    international = not (sender + recipient).isascii()
    out = BytesIO()
    policy = message.policy.clone(utf8=True) if international else message.policy  # type: ignore[call-arg]
    sent = message if "Bcc" not in message and "Resent-Bcc" not in message else _without_bcc(message)
    BytesGenerator(out, policy=policy).flatten(sent, linesep="\r\n")
    return out.getvalue(), (["SMTPUTF8", "BODY=8BITMIME"] if international else [])


def _without_bcc(message: EmailMessage) -> EmailMessage:
    trimmed = copy.copy(message)
    del trimmed["Bcc"]
    del trimmed["Resent-Bcc"]
    return trimmed
