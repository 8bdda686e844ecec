"""Benchmark (not a test): ImapSource vs plain imaplib ``UID FETCH`` of the same chunks.

    python -m bench.imap [N] [CHUNK]     (needs Dovecot on 127.0.0.1:10143, see
                                          tests/services/dovecot.sh; default N=2000, CHUNK=200)

Loads N generated ~5 KB messages into a fresh folder with one APPEND each,
then times a full read with each client in the same run and prints msgs/s for both.
"""

from __future__ import annotations

import imaplib
import sys
import time
import uuid

from flows.adapters.imap_source import ImapSource
from flows.adapters.imap_wire import parse_fetch, uid_set

HOST, PORT, USER, PASSWORD = "127.0.0.1", 10143, "hoering@test.invalid", "secret"


def _message(n: int) -> bytes:
    line = f"Høringssvar {n}: vi har følgende bemærkninger til strategien. " * 2
    body = "\r\n".join([line] * 40)[:5000]
    head = (
        f"From: part{n}@example.org\r\nTo: {USER}\r\nSubject: Svar {n}\r\nMessage-ID: <b{n}@example.org>\r\n"
    )
    head += "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    return head.encode() + body.encode()


def _connect() -> imaplib.IMAP4:
    conn = imaplib.IMAP4(HOST, PORT, timeout=30)
    conn.login(USER, PASSWORD)
    return conn


def load(folder: str, n: int) -> None:
    conn = _connect()
    conn.create(folder)
    for i in range(n):
        conn.append(folder, None, None, _message(i))
    conn.logout()


def plain_imaplib(folder: str, chunk: int) -> int:
    conn = _connect()
    conn.select(folder, readonly=True)
    _typ, data = conn.uid("SEARCH", "UID", "1:*")
    uids = [int(u) for u in (data[0] or b"").split()]
    count = 0
    for start in range(0, len(uids), chunk):
        _typ, fetched = conn.uid("FETCH", uid_set(uids[start : start + chunk]), "(UID BODY.PEEK[])")
        count += len(parse_fetch(fetched))
    conn.logout()
    return count


def with_source(folder: str, chunk: int) -> int:
    url = f"imap://{USER.replace('@', '%40')}:{PASSWORD}@{HOST}:{PORT}/{folder}"
    with ImapSource(url, timeout=30, processed_folder=f"{folder}-done") as source:
        return sum(len(batch.messages) for batch in source.batches(None, chunk))


def _timed(label: str, func: object, folder: str, chunk: int, n: int) -> None:
    started = time.perf_counter()
    count = func(folder, chunk)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    assert count == n, (label, count, n)
    print(f"{label:<28} {count} msgs in {elapsed:6.2f} s = {count / elapsed:8.0f} msgs/s")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    folder = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    load(folder, n)
    print(
        f"loaded {n} messages of ~5 KB into {folder} in {time.perf_counter() - started:.1f} s (chunk {chunk})"
    )
    try:
        for _ in range(2):  # second round: both warm
            _timed("plain imaplib UID FETCH", plain_imaplib, folder, chunk, n)
            _timed("ImapSource.batches", with_source, folder, chunk, n)
    finally:
        conn = _connect()
        conn.delete(folder)
        conn.logout()


if __name__ == "__main__":
    main()
