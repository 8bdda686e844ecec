"""Microsoft 365 without passwords: SASL XOAUTH2 with msal client credentials, against real servers.

Dovecot (tests/services/dovecot.sh) checks tokens with its oauth2 passdb against the loopback
introspection endpoint; aiosmtpd checks them with an ``auth_XOAUTH2`` hook; msal fetches them
over TLS from the loopback token endpoint (tests/support/identity.py), trusted through
``REQUESTS_CA_BUNDLE`` as an operator behind an inspecting proxy would do it.
"""

from __future__ import annotations

import imaplib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pytest

from flows.adapters.imap_source import ImapSource, MailAuthError, MailServerError
from flows.adapters.mail_sources import open_source
from flows.adapters.oauth import Microsoft365Error, TokenEndpointUnreachable
from flows.adapters.ports import Batch, Cursor
from flows.adapters.smtp_mailer import SmtpAuthError
from flows.bootstrap import App
from flows.runtime import is_transient
from flows.services import inviting
from flows.services.outbox import deliver
from tests.integration.conftest import IMAP_PORT, IMAP_USER, ImapMailbox
from tests.integration.test_mail_round import ROUND, ROUND_ID, collect, cph, mail, make_round, outbox
from tests.support.authsmtp import AuthSmtpServer
from tests.support.identity import IMAP_ROLE, SMTP_ROLE, TENANT, IdentityProvider, make_certificate

pytestmark = pytest.mark.imap

OAUTH_PORT = int(os.environ.get("HOERING_TEST_OAUTH_PORT") or IMAP_PORT + 10000)
CLIENT_ID, CLIENT_SECRET = "5f0c7a52-hoering-app", "app-secret-x7Qv"
MAILBOX = IMAP_USER
HOERING = str(Path(sys.executable).with_name("hoering"))


@pytest.fixture
def idp(
    tmp_path: Path, dovecot: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> Iterator[IdentityProvider]:
    """The loopback Entra ID, with our app registered and given the test mailbox."""
    require_xoauth2(*dovecot)
    workdir = tmp_path / "idp"
    workdir.mkdir()
    with IdentityProvider(workdir, OAUTH_PORT) as provider:
        provider.register(CLIENT_ID, CLIENT_SECRET, mailboxes={MAILBOX})
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(provider.ca_file))
        yield provider


def require_xoauth2(host: str, port: int) -> None:
    """Skip, saying why, on a Dovecot started before tests/services/dovecot.sh took XOAUTH2."""
    conn = imaplib.IMAP4(host, port, timeout=5)
    try:
        if "AUTH=XOAUTH2" not in conn.capabilities:
            pytest.skip(
                f"the Dovecot on {host}:{port} offers no XOAUTH2: restart it with tests/services/dovecot.sh"
            )
    finally:
        conn.logout()


def oauth_settings(idp: IdentityProvider, **extra: Any) -> dict[str, Any]:
    return {
        "oauth_tenant": TENANT,
        "oauth_client_id": CLIENT_ID,
        "oauth_client_secret": CLIENT_SECRET,
        "oauth_authority": idp.authority,
        **extra,
    }


def imap_url(mailbox: ImapMailbox) -> str:
    return f"imap://{MAILBOX.replace('@', '%40')}@{mailbox.host}:{mailbox.port}/{mailbox.folder}?auth=oauth2"


def smtp_url(server: AuthSmtpServer) -> str:
    return f"smtp://{MAILBOX.replace('@', '%40')}@127.0.0.1:{server.port}?auth=oauth2"


@pytest.fixture
def smtp(idp: IdentityProvider) -> Iterator[AuthSmtpServer]:
    server = AuthSmtpServer(idp=idp).start()
    try:
        yield server
    finally:
        server.stop()


def oauth_round(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap: ImapMailbox, **extra: Any
) -> App:
    urls = {"inbox_url": imap_url(imap), "smtp_url": smtp_url(smtp), "imap_processed_folder": imap.processed}
    return make_round(tmp_path, None, None, **oauth_settings(idp, **urls, **extra))


def test_a_round_runs_over_xoauth2_on_imap_and_smtp(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """Invite over SMTP, reply into Dovecot, collect over IMAP, receipt over SMTP: all XOAUTH2, one token."""
    app = oauth_round(tmp_path, idp, smtp, imap_server)

    invited = inviting.invite(app, ROUND_ID)
    imap_server.append(
        mail("a", "aeldre@raad.example", "Vi støtter strategien."), when=cph("2025-10-20T10:00:00+02:00")
    )
    app.clock.now = cph("2025-10-20T16:00:00+02:00")  # type: ignore[union-attr]
    fetched = collect(app)
    receipts = deliver(app, ROUND_ID, purposes=("receipt",))

    assert (invited.delivery.sent, fetched.stored, receipts.sent) == (5, 1, 1)
    assert [r.rcpt_tos for r in smtp.received if "Kvittering" in str(r.message["Subject"])] == [
        ["aeldre@raad.example"]
    ]
    assert {m for m, _user in smtp.logins} == {"XOAUTH2"} and {u for _m, u in smtp.logins} == {MAILBOX}
    assert len(idp.introspections) == 1  # Dovecot checked the token at our one IMAP login
    assert idp.token_requests == 1  # IMAP and SMTP share the cached token
    assert imap_server.uids() == []  # collected mail moved to the processed folder


class Unhurried:
    """The real ``ImapSource``; the caller spends ``pause`` seconds on each batch, as on a huge mailbox."""

    name = "imap"

    def __init__(self, source: ImapSource, pause: float) -> None:
        self.source, self.pause = source, pause
        self.mailbox_key = source.mailbox_key

    def __enter__(self) -> Self:
        self.source.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.source.__exit__(kind, exc, tb)

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        for batch in self.source.batches(cursor, size):
            yield batch
            time.sleep(self.pause)

    def acknowledge(self, batch: Batch) -> None:
        self.source.acknowledge(batch)


def test_a_collect_that_outlives_its_token_logs_in_again_with_a_new_one(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """Tokens of 2 s, a collect of about 4 s: it renews the token mid-collect, reconnects, and stores all."""
    idp.lifetime = 2
    app = oauth_round(tmp_path, idp, smtp, imap_server, imap_batch=1)
    imap_server.append(*(mail(f"m{n}", f"part{n}@raad.example", f"Svar {n}.") for n in range(4)))
    source = open_source(app.settings.inbox(), app.settings)
    assert isinstance(source, ImapSource)
    app.source_factory = lambda: Unhurried(source, pause=1.1)

    report = collect(app)

    assert (report.fetched, report.stored) == (4, 4)
    assert idp.token_requests >= 2
    logins = idp.introspections
    assert len(logins) >= 2 and len(set(logins)) == len(logins)  # each login with a fresh token
    assert imap_server.uids() == []


def test_a_send_that_outlives_its_token_logs_in_again_with_a_new_one(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """Tokens of 2 s, one message a second: the mailer reconnects with a fresh token and sends all 5."""
    idp.lifetime = 2
    app = oauth_round(tmp_path, idp, smtp, imap_server, send_rate_per_minute=60)

    report = inviting.invite(app, ROUND_ID)

    assert (report.delivery.sent, report.delivery.temp_failed, report.delivery.perm_failed) == (5, 0, 0)
    assert len(smtp.logins) >= 2 and idp.token_requests >= 2
    assert len({r.rcpt_tos[0] for r in smtp.received}) == 5


def test_a_certificate_instead_of_a_secret(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """HOERING_OAUTH_CERTIFICATE: msal signs a client assertion the endpoint checks; a foreign one is named."""
    pem = make_certificate(tmp_path / "hoering-app.pem")
    idp.register(CLIENT_ID, None, mailboxes={MAILBOX}, certificate=pem)
    app = oauth_round(tmp_path, idp, smtp, imap_server, oauth_client_secret=None, oauth_certificate=pem)
    with app.inbox() as source:
        assert getattr(source, "mailbox_key", "").startswith(MAILBOX)

    other = make_certificate(tmp_path / "anden.pem")
    wrong = oauth_round(tmp_path, idp, smtp, imap_server, oauth_client_secret=None, oauth_certificate=other)
    with pytest.raises(Microsoft365Error, match="certifikatet"), wrong.inbox():
        pass
    assert idp.token_requests == 2 and len(idp.introspections) == 1


def test_an_app_without_imap_permission_is_named_and_not_retried(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """A token without IMAP.AccessAsApp: Dovecot refuses, the error names the permission, permanent."""
    idp.register(CLIENT_ID, CLIENT_SECRET, mailboxes={MAILBOX}, roles=[SMTP_ROLE])
    app = oauth_round(tmp_path, idp, smtp, imap_server)

    with pytest.raises(MailAuthError) as caught, app.inbox():
        pass

    assert "API-tilladelsen IMAP.AccessAsApp" in str(caught.value)
    assert not is_transient(caught.value)
    assert len(idp.introspections) == 1  # the server was asked, and it said no


def test_a_mailbox_not_given_to_the_app_names_the_exchange_steps(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """A valid token with the permission, but no mailbox permission: New-ServicePrincipal / Add-MailboxPermission."""
    idp.register(CLIENT_ID, CLIENT_SECRET, mailboxes={"andet@test.invalid"})
    app = oauth_round(tmp_path, idp, smtp, imap_server)

    with pytest.raises(MailAuthError) as caught, app.inbox():
        pass

    text = str(caught.value)
    assert "New-ServicePrincipal" in text and "Add-MailboxPermission" in text and "FullAccess" in text
    assert "\n" not in text


def test_smtp_without_send_as_stops_before_any_row_is_claimed(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """No SMTP.SendAsApp: invite ends with the named permission; every invitation is still pending."""
    idp.register(CLIENT_ID, CLIENT_SECRET, mailboxes={MAILBOX}, roles=[IMAP_ROLE])
    app = oauth_round(tmp_path, idp, smtp, imap_server)

    with pytest.raises(SmtpAuthError, match=r"API-tilladelsen SMTP\.SendAsApp"):
        inviting.invite(app, ROUND_ID)

    rows = outbox(app, "invitation")
    assert rows and {(r.state, r.attempts) for r in rows.values()} == {("pending", 0)}
    assert smtp.received == []


def test_a_wrong_client_secret_is_named_from_the_aadsts_code(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """Entra ID answers AADSTS7000215: the line says the client secret is wrong; no server was asked."""
    app = oauth_round(tmp_path, idp, smtp, imap_server, oauth_client_secret="forkert")

    with pytest.raises(Microsoft365Error, match="klienthemmeligheden er forkert") as caught, app.inbox():
        pass

    assert not is_transient(caught.value)
    assert idp.introspections == []


def test_an_unknown_app_and_an_unreachable_endpoint(
    tmp_path: Path, idp: IdentityProvider, smtp: AuthSmtpServer, imap_server: ImapMailbox
) -> None:
    """AADSTS700016 names the app registration (permanent); a dead token endpoint is transient."""
    app = oauth_round(tmp_path, idp, smtp, imap_server, oauth_client_id="ukendt-app")
    with pytest.raises(Microsoft365Error, match="App registrations"), app.inbox():
        pass

    dead = oauth_round(tmp_path, idp, smtp, imap_server, oauth_authority="https://127.0.0.1:9/{tenant}")
    with pytest.raises(MailServerError, match=r"Microsoft Entra ID .* svarer ikke") as gone, dead.inbox():
        pass
    assert is_transient(gone.value)
    assert isinstance(gone.value.__cause__, TokenEndpointUnreachable)


def test_the_command_line_names_the_missing_permission_in_one_line(
    tmp_path: Path, idp: IdentityProvider, imap_server: ImapMailbox
) -> None:
    """`hoering collect` with an app lacking IMAP.AccessAsApp: one line, exit 1, one login attempt."""
    idp.register(CLIENT_ID, CLIENT_SECRET, mailboxes={MAILBOX}, roles=[SMTP_ROLE])
    base = tmp_path / "round"
    base.mkdir()
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    (base / "runde.toml").write_text(ROUND, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOERING_", "PREFECT_"))}
    env |= {
        "HOERING_DATA_DIR": str(tmp_path / "var"),
        "DO_NOT_TRACK": "1",
        "REQUESTS_CA_BUNDLE": str(idp.ca_file),
        "HOERING_INBOX_URL": imap_url(imap_server),
        "HOERING_OAUTH_TENANT": TENANT,
        "HOERING_OAUTH_CLIENT_ID": CLIENT_ID,
        "HOERING_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "HOERING_OAUTH_AUTHORITY": idp.authority,
    }

    def hoering(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HOERING, "--now", "2025-10-20T16:00:00+02:00", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
            check=False,
        )

    opened = hoering("open", str(base / "runde.toml"))
    assert opened.returncode == 0, opened.stderr
    result = hoering("collect", ROUND_ID)

    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hoering collect: Microsoft 365 afviste IMAP-login for hoering@test.invalid")
    assert "API-tilladelsen IMAP.AccessAsApp" in lines[0]
    assert len(idp.introspections) == 1  # permanent: the task was not retried
