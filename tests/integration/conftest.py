"""Fixtures for the mail adapters: a real aiosmtpd server, and a real Dovecot IMAP server.

Dovecot is used when ``HOERING_TEST_DOVECOT=1`` or 127.0.0.1:10143 answers (the test command
starts it); otherwise it is started here via ``tests/services/dovecot.sh`` when ``dovecot`` is
installed and we are root; otherwise the IMAP tests skip and say why.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.smtpserver import SmtpTestServer

IMAP_HOST, IMAP_PORT = "127.0.0.1", int(os.environ.get("HOERING_TEST_IMAP_PORT", "10143"))
IMAP_USER, IMAP_PASSWORD = "hoering@test.invalid", "secret"
DOVECOT_SH = Path(__file__).resolve().parents[1] / "services" / "dovecot.sh"


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A fresh aiosmtpd server on a free loopback port, recording every accepted message."""
    server = SmtpTestServer().start()
    try:
        yield server
    finally:
        server.stop()


def _port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _check_login(required: bool) -> None:
    """A server that answers but refuses the test user is someone else's: say so, do not error."""
    try:
        conn = imaplib.IMAP4(IMAP_HOST, IMAP_PORT, timeout=5)
        conn.login(IMAP_USER, IMAP_PASSWORD)
        conn.logout()
    except (imaplib.IMAP4.error, OSError) as exc:
        reason = f"an IMAP server on {IMAP_HOST}:{IMAP_PORT} answers but refuses {IMAP_USER}: {exc}"
        if required:
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[tuple[str, int]]:
    """(host, port) of a running Dovecot; started for this session only when needed."""
    if os.environ.get("HOERING_TEST_DOVECOT") == "1" or _port_answers(IMAP_HOST, IMAP_PORT):
        _check_login(os.environ.get("HOERING_TEST_DOVECOT") == "1")
        yield IMAP_HOST, IMAP_PORT
        return
    if shutil.which("dovecot") is None:
        pytest.skip(
            "no IMAP server: dovecot is not installed (apt-get install dovecot-imapd, or `make test`)"
        )
    if os.geteuid() != 0:
        pytest.skip("no IMAP server on 127.0.0.1:10143 and not root, so Dovecot cannot be started here")
    # not under pytest's tmp dir: that is mode 0700, and Dovecot's auth process (user dovecot)
    # and mail process (user vmail) must be able to reach the users file and the mail homes
    state = Path(tempfile.mkdtemp(prefix="hoering-dovecot-"))
    state.chmod(0o755)
    subprocess.run(["bash", str(DOVECOT_SH), "start", str(state)], check=True)
    try:
        yield IMAP_HOST, IMAP_PORT
    finally:
        subprocess.run(["bash", str(DOVECOT_SH), "stop", str(state)], check=False)
        shutil.rmtree(state, ignore_errors=True)


@dataclass
class ImapMailbox:
    """One throw-away folder on the test Dovecot, with helpers to seed and recreate it."""

    host: str
    port: int
    folder: str
    processed: str

    def url(self, port: int | None = None) -> str:
        user = IMAP_USER.replace("@", "%40")
        return f"imap://{user}:{IMAP_PASSWORD}@{self.host}:{port or self.port}/{self.folder}"

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(IMAP_USER, IMAP_PASSWORD)
        return conn

    def append(self, *messages: bytes, when: datetime | None = None) -> None:
        conn = self.connect()
        try:
            stamp = imaplib.Time2Internaldate(when) if when else None
            for data in messages:
                status, reply = conn.append(self.folder, None, stamp, data)
                assert status == "OK", reply
        finally:
            conn.logout()

    def recreate(self) -> None:
        """Delete and create the folder again: its UIDVALIDITY changes, its mail is gone."""
        conn = self.connect()
        try:
            conn.delete(self.folder)
            conn.create(self.folder)
        finally:
            conn.logout()

    def uids(self, folder: str | None = None) -> list[int]:
        conn = self.connect()
        try:
            conn.select(folder or self.folder, readonly=True)
            _status, data = conn.uid("SEARCH", "ALL")
            return [int(u) for u in (data[0] or b"").split()]
        finally:
            conn.logout()

    def flags(self) -> list[bytes]:
        conn = self.connect()
        try:
            conn.select(self.folder, readonly=True)
            _status, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            return [item for item in data if isinstance(item, bytes)]
        finally:
            conn.logout()

    def drop(self) -> None:
        conn = self.connect()
        try:
            for name in (self.folder, self.processed):
                conn.delete(name)
        finally:
            conn.logout()


@pytest.fixture
def imap_server(dovecot: tuple[str, int]) -> Iterator[ImapMailbox]:
    """A fresh, uniquely named folder (and processed folder) on Dovecot, removed afterwards."""
    host, port = dovecot
    tag = uuid.uuid4().hex[:10]
    mailbox = ImapMailbox(host, port, f"t{tag}", f"t{tag}-done")
    conn = mailbox.connect()
    try:
        status, reply = conn.create(mailbox.folder)
        assert status == "OK", reply
    finally:
        conn.logout()
    try:
        yield mailbox
    finally:
        mailbox.drop()
