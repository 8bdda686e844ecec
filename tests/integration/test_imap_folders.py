"""Danish folder names over a real Dovecot, once with '/' and once with '.' between levels.

Each test module run starts its own Dovecot (tests/services/dovecot.sh) in a tmp dir on a free
loopback port, so the folder names are fixed ("Høringssvar", not a random tag) and the server's
hierarchy delimiter can differ from the shared server's '/'. The names are read back with
``doveadm mailbox list``, which prints them as a mail client shows them, and with a raw LIST.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from flows.adapters import imap_utf7
from flows.adapters.db.tables import RawMessageRow
from flows.adapters.imap_source import ImapSource, MailSourceError
from flows.bootstrap import bootstrap
from flows.services import collecting
from flows.settings import Settings
from tests.integration.conftest import DOVECOT_SH, IMAP_PASSWORD, IMAP_USER

pytestmark = pytest.mark.imap

# the names as the server stores them, written out by hand from RFC 3501 §5.1.3 (not by our codec)
HOERINGSSVAR = "H&APg-ringssvar"
AEBLER = "&AMY-bler &- &ANg-rred"


@dataclass
class Dovecot:
    port: int
    separator: str
    conf: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(IMAP_USER, IMAP_PASSWORD)
        return conn

    def url(self, path: str) -> str:
        return f"imap://{IMAP_USER.replace('@', '%40')}:{IMAP_PASSWORD}@127.0.0.1:{self.port}/{path}"

    def folders(self) -> list[str]:
        """The folder names as doveadm prints them (UTF-8, the server's own delimiter)."""
        done = subprocess.run(
            ["doveadm", "-c", str(self.conf), "mailbox", "list", "-u", IMAP_USER],
            capture_output=True,
            check=True,
        )
        return sorted(done.stdout.decode("utf-8").splitlines())

    def count(self, wire: str) -> int:
        conn = self.connect()
        try:
            typ, data = conn.status(f'"{wire}"', "(MESSAGES)")
            assert typ == "OK", data
            return int(str(data[0]).rsplit("MESSAGES", 1)[1].strip(" )'"))
        finally:
            conn.logout()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["/", "."], ids=["slash", "dot"])
def dovecot_sep(request: pytest.FixtureRequest) -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd, or `make test`)")
    if os.geteuid() != 0:
        pytest.skip("not root, so a Dovecot with its own hierarchy delimiter cannot be started here")
    state = Path(tempfile.mkdtemp(prefix="hoering-dovecot-folders-"))
    state.chmod(0o755)
    port = _free_port()
    env = os.environ | {"HOERING_TEST_IMAP_PORT": str(port), "HOERING_TEST_IMAP_SEPARATOR": request.param}
    subprocess.run(["bash", str(DOVECOT_SH), "start", str(state)], check=True, env=env)
    try:
        yield Dovecot(port, request.param, state / "dovecot.conf")
    finally:
        subprocess.run(["bash", str(DOVECOT_SH), "stop", str(state)], check=False, env=env)
        shutil.rmtree(state, ignore_errors=True)


def _mail(n: int) -> bytes:
    return (
        f"From: part{n}@example.org\r\nTo: hoering@test.invalid\r\nSubject: Svar {n}\r\n"
        f"Message-ID: <folder{n}@example.org>\r\n\r\nHøringssvar nummer {n}.\r\n"
    ).encode()


def _seed(server: Dovecot, wire: str, *numbers: int) -> None:
    conn = server.connect()
    try:
        typ, data = conn.create(f'"{wire}"')
        assert typ == "OK", data
        for n in numbers:
            typ, data = conn.append(f'"{wire}"', None, None, _mail(n))
            assert typ == "OK", data
    finally:
        conn.logout()


def test_collect_from_danish_folders_moves_into_the_danish_child(
    dovecot_sep: Dovecot, tmp_path: Path
) -> None:
    """Collect from …/Høringssvar and …/Æbler%20%26%20Ørred, processed folder Høringssvar/Behandlet.

    The server then holds exactly the three Danish names (with its own delimiter), the mail has
    moved into the child folder, and nothing shows as mojibake or as modified UTF-7.
    """
    server = dovecot_sep
    _seed(server, HOERINGSSVAR, 1, 2)
    _seed(server, AEBLER, 3)
    for path in ("Høringssvar", "%C3%86bler%20%26%20%C3%98rred"):
        app = bootstrap(
            Settings(
                data_dir=tmp_path / "var",
                inbox_url=server.url(path),
                imap_processed_folder="Høringssvar/Behandlet",
                socket_timeout=10,
            )
        )
        try:
            report = collecting.fetch(app)
            assert report.stored >= 1
        finally:
            app.db.dispose()

    sep = server.separator
    assert server.folders() == sorted(["INBOX", "Høringssvar", f"Høringssvar{sep}Behandlet", "Æbler & Ørred"])
    assert server.count(f"{HOERINGSSVAR}{sep}Behandlet") == 3
    assert server.count(HOERINGSSVAR) == 0 and server.count(AEBLER) == 0

    # what a mail client is sent: the modified UTF-7 of the same names, the server's delimiter
    conn = server.connect()
    try:
        typ, data = conn.list('""', "*")
        assert typ == "OK", data
    finally:
        conn.logout()
    listed = {line.decode("ascii").rsplit(" ", 1)[-1].strip('"') for line in data if isinstance(line, bytes)}
    assert {HOERINGSSVAR, f"{HOERINGSSVAR}{sep}Behandlet"} <= listed

    app = bootstrap(Settings(data_dir=tmp_path / "var"))
    try:
        with app.db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(RawMessageRow)) == 3
    finally:
        app.db.dispose()


def test_a_folder_the_server_cannot_hold_is_one_clear_error(dovecot_sep: Dovecot) -> None:
    """A processed folder the server cannot hold ends the collect with a Danish reason, creating nothing."""
    server = dovecot_sep
    _seed(server, HOERINGSSVAR, 1)
    bad = "Høringssvar/Svar 2025.1" if server.separator == "." else "Høringssvar//Behandlet"
    source = ImapSource(server.url("Høringssvar"), timeout=10, processed_folder=bad)
    with pytest.raises(MailSourceError, match="IMAP-mappen"), source:
        pass
    assert server.folders() == sorted(["INBOX", "Høringssvar"])


@pytest.mark.skipif(shutil.which("doveadm") is None, reason="doveadm (dovecot-core) is not installed")
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12), min_size=1)
)
def test_the_codec_agrees_with_dovecots(names: list[str]) -> None:
    """Our modified UTF-7 is Dovecot's, for any printable names (doveadm mailbox mutf7)."""
    done = subprocess.run(
        ["doveadm", "mailbox", "mutf7", "-8", "--", *names], capture_output=True, check=True
    )
    assert done.stdout.decode("ascii").split("\n")[:-1] == [imap_utf7.encode(name) for name in names]
