"""ImapSource against a real Dovecot on loopback (intake-reliability.md §3.1, §6 cases 1, 2, 4, 25)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flows.adapters.imap_source import ImapSource, MailAuthError, MailServerError
from flows.adapters.imap_wire import parse_internaldate, uid_set
from flows.adapters.ports import Batch, Cursor
from tests.integration.conftest import ImapMailbox
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.imap


def _mail(n: int, body_bytes: int = 200) -> bytes:
    body = (f"Svar nummer {n}. " * (body_bytes // 16 + 1))[:body_bytes]
    return (
        f"From: part{n}@example.org\r\nTo: hoering@test.invalid\r\nSubject: Svar {n}\r\n"
        f"Message-ID: <m{n}@example.org>\r\n\r\n{body}\r\n"
    ).encode()


def _source(mailbox: ImapMailbox, port: int | None = None, **kwargs: object) -> ImapSource:
    return ImapSource(
        mailbox.url(port),
        timeout=10,
        processed_folder=mailbox.processed,
        **kwargs,  # type: ignore[arg-type]
    )


def _read_all(source: ImapSource, cursor: Cursor | None, size: int) -> list[Batch]:
    with source:
        return list(source.batches(cursor, size))


def test_fetch_in_batches_keeps_mail_unseen(imap_server: ImapMailbox) -> None:
    """Five messages in batches of two: 2+2+1, oldest first, cursor at each batch's top UID, no \\Seen."""
    imap_server.append(*(_mail(n) for n in range(5)))
    batches = _read_all(_source(imap_server), None, 2)
    assert [len(b.messages) for b in batches] == [2, 2, 1]
    assert [b.cursor.last_uid for b in batches if b.cursor] == [2, 4, 5]
    assert [m.data for b in batches for m in b.messages] == [_mail(n) for n in range(5)]
    first = batches[0].messages[0]
    assert first.source == "imap" and first.uid == 1 and first.uidvalidity
    assert first.source_name == f"{imap_server.folder}/{first.uidvalidity}/1"
    assert batches[0].notes and not batches[1].notes  # first read is noted once
    assert all(b"\\Seen" not in flags for flags in imap_server.flags())


def test_cursor_resumes_after_last_uid(imap_server: ImapMailbox) -> None:
    """With a cursor at the top UID nothing is returned (the n:* quirk is filtered out)."""
    imap_server.append(_mail(1), _mail(2))
    [batch] = _read_all(_source(imap_server), None, 10)
    assert batch.cursor is not None
    assert _read_all(_source(imap_server), batch.cursor, 10) == []
    imap_server.append(_mail(3))
    [again] = _read_all(_source(imap_server), batch.cursor, 10)
    assert [m.uid for m in again.messages] == [3] and not again.notes


def test_internaldate_is_received_at(imap_server: ImapMailbox) -> None:
    """received_at is the server's INTERNALDATE (aware), not the Date header."""
    when = datetime(2025, 10, 24, 23, 59, 30, tzinfo=timezone(timedelta(hours=2)))
    imap_server.append(b"Date: Mon, 1 Jan 2001 00:00:00 +0000\r\n" + _mail(1), when=when)
    [batch] = _read_all(_source(imap_server), None, 10)
    [message] = batch.messages
    assert message.received_from == "internaldate"
    assert message.received_at == when and message.received_at.utcoffset() is not None


def test_acknowledge_moves_to_processed(imap_server: ImapMailbox) -> None:
    """After acknowledge the batch's UIDs are in the processed folder (created on demand), not the inbox."""
    imap_server.append(_mail(1), _mail(2), _mail(3))
    source = _source(imap_server)
    with source:
        batches = list(source.batches(None, 2))
        source.acknowledge(batches[0])
    assert imap_server.uids() == [3]
    assert len(imap_server.uids(imap_server.processed)) == 2


def test_acknowledge_never_raises(imap_server: ImapMailbox) -> None:
    """A move that fails (here: the connection is gone) is logged, not raised."""
    imap_server.append(_mail(1))
    source = _source(imap_server)
    with source:
        [batch] = list(source.batches(None, 10))
        source._drop()
        source.acknowledge(batch)
    assert imap_server.uids() == [1]


def test_uidvalidity_change_rescans_with_note(imap_server: ImapMailbox) -> None:
    """A recreated folder (new UIDVALIDITY) is read from UID 1 again and the batch says why."""
    imap_server.append(_mail(1), _mail(2))
    [batch] = _read_all(_source(imap_server), None, 10)
    assert batch.cursor is not None
    imap_server.recreate()
    imap_server.append(_mail(1), _mail(2))
    [rescan] = _read_all(_source(imap_server), batch.cursor, 10)
    assert rescan.cursor is not None and rescan.cursor.uidvalidity != batch.cursor.uidvalidity
    assert [m.uid for m in rescan.messages] == [1, 2]
    assert any("UIDVALIDITY" in note for note in rescan.notes)


def test_large_message_is_streamed_whole_never_cut(imap_server: ImapMailbox) -> None:
    """Over the streaming threshold a message comes whole, in partial fetches, and only its head is
    held in the batch; one exactly two chunks long ends cleanly (the old code kept headers only)."""
    chunk = 256 * 1024
    big = _mail(2, body_bytes=3 * 1024 * 1024 + 123)
    head = _mail(3, body_bytes=0)
    exact = head + b"x" * (2 * chunk - len(head))
    imap_server.append(_mail(1), big, exact)
    source = _source(imap_server, stream_above=64 * 1024, stream_chunk=chunk)
    with source:
        [batch] = list(source.batches(None, 10))
        small, large, even = batch.messages
        streamed = [b"".join(m.stream()) for m in (large, even) if m.stream is not None]
    assert small.stream is None and small.data == _mail(1)
    assert streamed == [big, exact]
    assert b"Subject: Svar 2" in large.data and b"Svar nummer 2" not in large.data


def test_bad_password_is_auth_error(imap_server: ImapMailbox) -> None:
    """Wrong credentials raise the permanent MailAuthError."""
    url = imap_server.url().replace(":secret@", ":wrong@")
    with pytest.raises(MailAuthError), ImapSource(url, timeout=5, processed_folder="P"):
        pass


def test_nobody_listening_is_server_error() -> None:
    """A refused connection raises the transient MailServerError."""
    from tests.support.smtpserver import free_port

    with (
        pytest.raises(MailServerError),
        ImapSource(f"imap://u:p@127.0.0.1:{free_port()}/INBOX", timeout=2, processed_folder="P"),
    ):
        pass


def _collect(source: ImapSource, cursor: Cursor | None, commit: Callable[[Batch], None]) -> None:
    """The collect loop in miniature: fetch a batch, commit it, then move it."""
    with source:
        for batch in source.batches(cursor, 2):
            commit(batch)
            source.acknowledge(batch)


def test_cut_mid_fetch_then_rerun_gets_each_message_once(imap_server: ImapMailbox) -> None:
    """A cut inside a FETCH literal raises; rerunning from the committed cursor yields every mail exactly once."""
    imap_server.append(*(_mail(n, body_bytes=20_000) for n in range(6)))
    committed: dict[str, object] = {"cursor": None, "sha": set()}
    stored: list[str] = []

    def commit(batch: Batch) -> None:  # what store_batch does: rows + cursor in one transaction
        for message in batch.messages:
            digest = hashlib.sha256(message.data).hexdigest()
            if digest not in committed["sha"]:  # type: ignore[operator]
                committed["sha"].add(digest)  # type: ignore[attr-defined]
                stored.append(digest)
        committed["cursor"] = batch.cursor

    host, port = imap_server.host, imap_server.port
    with FaultProxy(host, port) as proxy:
        proxy.cut_after(60_000)  # past login and the first batch of two, inside the second
        source = _source(imap_server, port=proxy.port)
        with pytest.raises(MailServerError):
            _collect(source, None, commit)
        assert proxy.cuts == 1
        assert 0 < len(stored) < 6
        proxy.cut_after(None)
        for _ in range(2):  # the rerun, and one more that must find nothing new
            _collect(_source(imap_server, port=proxy.port), committed["cursor"], commit)  # type: ignore[arg-type]
    assert sorted(stored) == sorted(hashlib.sha256(_mail(n, body_bytes=20_000)).hexdigest() for n in range(6))
    assert imap_server.uids() == []


def test_uid_set_ranges() -> None:
    """UIDs compress to ranges so a chunk is one short command."""
    assert uid_set([7, 1, 2, 3, 9, 10, 3]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"


def test_internaldate_parsing() -> None:
    """INTERNALDATE with a space-padded day and a negative offset becomes an aware datetime."""
    got = parse_internaldate(b'1 (UID 4 INTERNALDATE " 7-Oct-2025 08:05:09 -0130" BODY[] {3}')
    assert got == datetime(2025, 10, 7, 9, 35, 9, tzinfo=UTC)
