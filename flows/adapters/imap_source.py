"""Reading an IMAP folder by UID cursor; moving what was committed to a processed folder.

Why it is built this way (intake-reliability.md §3.1, §5, §6 cases 1, 2, 4, 25):

* UIDs plus UIDVALIDITY are the cursor, never sequence numbers or ``\\Seen``; a changed
  UIDVALIDITY means a full rescan, and the sha256 key downstream absorbs the repeats;
* ``BODY.PEEK[]`` only: ``BODY[]``/``RFC822`` set ``\\Seen`` on the server as a side effect;
* ``UID SEARCH UID n:*`` returns the highest UID even when it is below n, so UIDs are filtered
  client-side;
* nothing on the server changes until the caller has committed a batch (``acknowledge``);
* a cut connection raises ``MailServerError`` (transient, Prefect retries), bad credentials
  ``MailAuthError`` (permanent), so the flow can tell them apart;
* every message is stored whole, however large: one over ``stream_above`` is fetched on its own
  in partial ``BODY.PEEK[]<offset.length>`` chunks straight into the raw store, so it is never
  held in memory whole (the size limit is the parser's: larger messages are kept, not parsed).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Self
from urllib.parse import unquote, urlsplit

from flows.adapters.imap_folders import (
    FolderNameError,
    delimiter_of,
    parse_list,
    same_folder,
    wire_name,
)
from flows.adapters.imap_wire import SIZE, UID, answered_for, close_quietly, parse_fetch, text_of, uid_set
from flows.adapters.oauth import (
    AccessToken,
    TokenEndpointUnreachable,
    TokenSource,
    explain_refusal,
    wants_oauth2,
    xoauth2,
)
from flows.adapters.ports import Batch, Cursor, FetchedMessage
from flows.adapters.secrets import url_password
from flows.core.errors import HoeringError, TransientError
from flows.settings import redact_url

# imaplib refuses any response line longer than _MAXLINE (1,000,000 bytes) with "got more than
# N bytes"; a UID SEARCH over a big folder is one such line. It is a module global: setting it on
# an instance has no effect (django-mailbox#81, IMAPdedup#12). 10 MB covers ~1M UIDs.
imaplib._MAXLINE = 10 * 1024 * 1024  # type: ignore[attr-defined]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# Messages larger than this are streamed in chunks of STREAM_CHUNK rather than fetched in a batch.
STREAM_ABOVE = 8 * 1024 * 1024
STREAM_CHUNK = 4 * 1024 * 1024


class MailSourceError(RuntimeError):
    """The mailbox cannot be read as configured (permanent: retrying will not help)."""


class MailServerError(MailSourceError, TransientError):
    """The server could not be reached or dropped us; transient, so a retry may succeed."""


class MailAuthError(MailSourceError, HoeringError):
    """The server refused the credentials; permanent until someone fixes the settings."""


class ImapSource:
    """``MailSource`` for ``imap://user:pass@host:port/FOLDER`` and ``imaps://…``.

    ``…/FOLDER?auth=oauth2`` logs in with SASL XOAUTH2 and a token from ``tokens`` instead of a
    password; the connection is reopened with a fresh token before a batch when the one it
    logged in with is due for renewal (Exchange Online ends a session whose token ran out).
    """

    name = "imap"

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        processed_folder: str,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        tls_verify: bool = True,
        tokens: TokenSource | None = None,
        secret_block: str | None = None,
        stream_above: int = STREAM_ABOVE,
        stream_chunk: int = STREAM_CHUNK,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            msg = f"HOERING_INBOX_URL skal være imap://… eller imaps://…, ikke {redact_url(url)}"
            raise MailSourceError(msg)
        self.implicit_tls = parts.scheme == "imaps"
        self.host = parts.hostname
        self.port = parts.port or (993 if self.implicit_tls else 143)
        self.user = unquote(parts.username or "")
        self.tokens = tokens if wants_oauth2(url) else None
        if wants_oauth2(url) and tokens is None:
            raise MailSourceError("HOERING_INBOX_URL beder om ?auth=oauth2, men der er ingen OAuth-opsætning")
        self._password = (
            "" if self.tokens else url_password(parts.password, fallback_block=secret_block) or ""
        )
        self._token: AccessToken | None = None
        self.folder = unquote(parts.path.lstrip("/")) or "INBOX"
        self.timeout = timeout
        self.processed_folder = processed_folder
        self.max_message_bytes = max_message_bytes  # the parser's limit; kept for callers
        self.stream_above, self.stream_chunk = stream_above, max(1, stream_chunk)
        self.tls_verify = tls_verify
        # the cursor key: where the mail lives, without the password
        self.mailbox_key = f"{self.user}@{self.host}:{self.port}/{self.folder}"
        self.uidvalidity = 0
        self._conn: imaplib.IMAP4 | None = None
        # the folders as the server names them, known once connected (delimiter, modified UTF-7)
        self._folder_wire = ""
        self._processed_wire = ""
        self._capabilities: set[str] = set()

    def __repr__(self) -> str:
        return f"ImapSource({self.mailbox_key!r})"

    # -- connection ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self._conn = self._connect()
            self._login(self._conn)
            self._select(self._conn)
        except BaseException:
            self._drop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            close_quietly(conn)

    def _connect(self) -> imaplib.IMAP4:
        try:
            if self.implicit_tls:
                return imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self._tls(), timeout=self.timeout)
            conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            if "STARTTLS" in conn.capabilities:
                conn.starttls(ssl_context=self._tls())
            return conn
        except (imaplib.IMAP4.error, OSError) as exc:
            msg = f"IMAP-serveren {self.host}:{self.port} svarer ikke: {exc}"
            raise MailServerError(msg) from exc

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if not self.tls_verify:  # test servers with self-signed certificates only; opt-in
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _login(self, conn: imaplib.IMAP4) -> None:
        try:
            if self.tokens is not None:
                self._token = self.tokens.token()
                sasl = xoauth2(self.user, self._token).encode()
                # an error arrives as a second challenge (JSON); answer it empty to get the NO
                conn.authenticate("XOAUTH2", lambda challenge: b"" if challenge else sasl)
            else:
                conn.login(self.user, self._password)
        except TokenEndpointUnreachable as exc:
            raise MailServerError(str(exc)) from exc
        except imaplib.IMAP4.abort as exc:
            raise MailServerError(f"IMAP-forbindelsen blev afbrudt ved login: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            if self._token is not None:
                raise MailAuthError(explain_refusal("IMAP", self.user, self._token)) from exc
            msg = f"IMAP-login afvist for {self.user}@{self.host}: {text_of(exc)}"
            raise MailAuthError(msg) from exc
        except OSError as exc:
            raise MailServerError(f"IMAP-forbindelsen fejlede ved login: {exc}") from exc
        # imaplib keeps the pre-login CAPABILITY list (bpo-18921); MOVE/UIDPLUS appear only now
        _typ, data = self._call(conn.capability)
        self._capabilities = {c.upper() for c in b" ".join(d for d in data if d).decode().split()}

    def _select(self, conn: imaplib.IMAP4) -> None:
        self._name_folders(conn)
        typ, data = self._call(conn.select, self._folder_wire)
        if typ != "OK":
            msg = f"IMAP-mappen {self.folder!r} kan ikke åbnes: {text_of(data)}"
            raise MailSourceError(msg)
        _typ, validity = self._call(conn.response, "UIDVALIDITY")  # untagged [UIDVALIDITY n] of SELECT
        value = validity[-1] if validity else None
        if not value or not value.strip().isdigit():
            raise MailServerError(f"IMAP-mappen {self.folder!r} oplyste ingen UIDVALIDITY")
        self.uidvalidity = int(value)

    def _name_folders(self, conn: imaplib.IMAP4) -> None:
        """Both folders as wire names, with the delimiter the server reports for its namespace."""
        typ, data = self._call(conn.list, '""', '""')
        delimiter = delimiter_of(data) if typ == "OK" else "/"
        try:
            self._folder_wire = wire_name(self.folder, delimiter)
            self._processed_wire = wire_name(self.processed_folder, delimiter)
        except FolderNameError as exc:
            raise MailSourceError(str(exc)) from exc

    def _call(self, method: object, *args: object) -> tuple[str, list[bytes | None]]:
        """One IMAP command; a socket problem becomes ``MailServerError``."""
        try:
            typ, data = method(*args)  # type: ignore[operator]
        except imaplib.IMAP4.abort as exc:
            self._drop()
            raise MailServerError(f"IMAP-forbindelsen blev afbrudt: {exc}") from exc
        except OSError as exc:
            self._drop()
            raise MailServerError(f"IMAP-forbindelsen fejlede: {exc}") from exc
        return str(typ), list(data)

    def _renew_if_due(self) -> None:
        """A new connection with a fresh token when the current one's is due; same folder, same UIDs."""
        if self._token is None or not self._token.due():
            return
        log.info("IMAP token for %s is due for renewal; reconnecting", self.mailbox_key)
        validity = self.uidvalidity
        self.__exit__(None, None, None)
        self.__enter__()
        if self.uidvalidity != validity:
            msg = f"IMAP-mappen {self.folder!r} skiftede UIDVALIDITY under indsamlingen; den læses igen"
            raise MailServerError(msg)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            close_quietly(conn)

    @property
    def conn(self) -> imaplib.IMAP4:
        if self._conn is None:
            msg = "ImapSource bruges uden for 'with' eller efter en afbrudt forbindelse"
            raise MailServerError(msg)
        return self._conn

    # -- reading ------------------------------------------------------------------------------

    def batches(self, cursor: Cursor | None, size: int) -> Iterator[Batch]:
        """New messages oldest first, ``size`` UIDs per FETCH; nothing on the server changes."""
        last, notes = self._start(cursor)
        if cursor is not None and last:
            self._sweep_committed(last)
        uids = self._new_uids(last)
        if not uids and notes:
            yield Batch([], Cursor(self.mailbox_key, self.uidvalidity, 0), notes)
            return
        for start in range(0, len(uids), max(1, size)):
            chunk = uids[start : start + max(1, size)]
            self._renew_if_due()
            messages = self._fetch(chunk)
            yield Batch(messages, Cursor(self.mailbox_key, self.uidvalidity, max(chunk)), notes)
            notes = []

    def _start(self, cursor: Cursor | None) -> tuple[int, list[str]]:
        if cursor is not None and cursor.uidvalidity == self.uidvalidity:
            return cursor.last_uid, []
        if cursor is None:
            return 0, [f"IMAP {self.mailbox_key}: første indlæsning (UIDVALIDITY {self.uidvalidity})"]
        note = (
            f"IMAP {self.mailbox_key}: UIDVALIDITY ændret fra {cursor.uidvalidity} til {self.uidvalidity}; "
            "hele mappen læses igen (allerede gemte beskeder genkendes på indhold)"
        )
        log.warning(note)
        return 0, [note]

    def _new_uids(self, last: int) -> list[int]:
        typ, data = self._call(self.conn.uid, "SEARCH", "UID", f"{last + 1}:*")
        if typ != "OK":
            raise MailServerError(f"UID SEARCH fejlede: {text_of(data)}")
        found = {int(tok) for line in data if line for tok in line.split() if tok.isdigit()}
        return sorted(uid for uid in found if uid > last)  # "n:*" also returns the top UID < n

    def _fetch(self, chunk: Sequence[int]) -> list[FetchedMessage]:
        sizes = self._sizes(chunk)
        small = [uid for uid in chunk if sizes.get(uid, 0) <= self.stream_above]
        large = [uid for uid in chunk if uid not in set(small)]
        fetched = self._fetch_items(small, "BODY.PEEK[]") if small else {}
        heads = self._fetch_items(large, "BODY.PEEK[HEADER]") if large else {}
        messages = []
        for uid in chunk:
            if uid in fetched:
                messages.append(self._message(uid, *fetched[uid]))
            elif uid in heads:  # the head for now; the whole message streamed when it is stored
                head, when = heads[uid]
                messages.append(
                    replace(self._message(uid, head, when), stream=partial(self._body_chunks, uid))
                )
        return messages

    def _body_chunks(self, uid: int) -> Iterator[bytes]:
        """The whole message in partial fetches; ends at the first short chunk, never cuts it."""
        offset = 0
        while True:
            part = f"BODY.PEEK[]<{offset}.{self.stream_chunk}>"
            typ, data = self._call(self.conn.uid, "FETCH", str(uid), f"(UID {part})")
            if typ != "OK":
                raise MailServerError(f"UID FETCH (del af stor besked) fejlede: {text_of(data)}")
            found = parse_fetch(data).get(uid)
            if found is None:
                if offset and answered_for(uid, data):  # an empty string: the end, exactly
                    return
                raise MailServerError(f"UID {uid} forsvandt, mens den blev hentet; prøves igen")
            chunk = found[0]
            if chunk:
                yield chunk
            if len(chunk) < self.stream_chunk:
                return
            offset += len(chunk)

    def _sizes(self, chunk: Sequence[int]) -> dict[int, int]:
        typ, data = self._call(self.conn.uid, "FETCH", uid_set(chunk), "(UID RFC822.SIZE)")
        if typ != "OK":
            raise MailServerError(f"UID FETCH (størrelse) fejlede: {text_of(data)}")
        sizes: dict[int, int] = {}
        for line in data:
            if isinstance(line, bytes) and (u := UID.search(line)) and (s := SIZE.search(line)):
                sizes[int(u.group(1))] = int(s.group(1))
        return sizes

    def _fetch_items(self, uids: Sequence[int], part: str) -> dict[int, tuple[bytes, datetime | None]]:
        typ, data = self._call(self.conn.uid, "FETCH", uid_set(uids), f"(UID INTERNALDATE {part})")
        if typ != "OK":
            raise MailServerError(f"UID FETCH fejlede: {text_of(data)}")
        return parse_fetch(data)

    def _message(self, uid: int, data: bytes, when: datetime | None) -> FetchedMessage:
        return FetchedMessage(
            data=data,
            received_at=when,
            received_from="internaldate",
            source="imap",
            source_name=f"{self.folder}/{self.uidvalidity}/{uid}",
            mailbox=self.mailbox_key,
            uidvalidity=self.uidvalidity,
            uid=uid,
        )

    # -- housekeeping -------------------------------------------------------------------------

    def acknowledge(self, batch: Batch) -> None:
        """Move the committed batch to the processed folder; failures are logged, never raised.

        A failed move is retried by the next run's sweep of UIDs up to the committed cursor;
        were they fetched again, the unique keys on the raw rows would absorb them (§6 case 1).
        """
        uids = [m.uid for m in batch.messages if m.uid is not None and m.uidvalidity == self.uidvalidity]
        if not uids or self._conn is None:
            return
        try:
            self._ensure_processed_folder()
            self._move(uid_set(uids))
        except (MailSourceError, imaplib.IMAP4.error, OSError) as exc:
            log.warning("could not move %d message(s) to %s: %s", len(uids), self.processed_folder, exc)

    def _sweep_committed(self, last: int) -> None:
        """Move what an earlier run stored but did not get to move (it died, or the move failed).

        The cursor is committed in the same transaction as the raw rows, so every UID up to it
        still in the folder is already stored; without this sweep it would stay there for good.
        """
        try:
            typ, data = self._call(self.conn.uid, "SEARCH", "UID", f"1:{last}")
            if typ != "OK":
                return
            stale = sorted(
                {int(t) for line in data if line for t in line.split() if t.isdigit() and int(t) <= last}
            )
            if stale:
                log.info(
                    "moving %d message(s) stored by an earlier run to %s", len(stale), self.processed_folder
                )
                self._ensure_processed_folder()
                for start in range(0, len(stale), 500):
                    self._move(uid_set(stale[start : start + 500]))
        except (MailSourceError, imaplib.IMAP4.error, OSError) as exc:
            log.warning("could not move earlier stored messages to %s: %s", self.processed_folder, exc)

    def _ensure_processed_folder(self) -> None:
        # the name is a LIST pattern too: a '%' or '*' in it matches other folders, so the
        # answer is compared by name, not just checked for being empty
        typ, data = self._call(self.conn.list, '""', self._processed_wire)
        if typ == "OK" and any(same_folder(f.name, self.processed_folder) for f in parse_list(data)):
            return
        typ, data = self._call(self.conn.create, self._processed_wire)
        if typ != "OK":
            log.warning("CREATE %s: %s", self.processed_folder, text_of(data))

    def _move(self, uids: str) -> None:
        target = self._processed_wire
        if "MOVE" in self._capabilities:
            typ, data = self._call(self.conn.uid, "MOVE", uids, target)
            _check(typ, data, "UID MOVE")
            return
        typ, data = self._call(self.conn.uid, "COPY", uids, target)
        _check(typ, data, "UID COPY")
        typ, data = self._call(self.conn.uid, "STORE", uids, "+FLAGS.SILENT", r"(\Deleted)")
        _check(typ, data, "UID STORE")
        if "UIDPLUS" in self._capabilities:
            typ, data = self._call(self.conn.uid, "EXPUNGE", uids)
            _check(typ, data, "UID EXPUNGE")
        else:
            # a plain EXPUNGE would also remove mail someone else flagged \Deleted: leave it
            log.info("server has neither MOVE nor UIDPLUS; copied and flagged \\Deleted only")


def _check(typ: str, data: Sequence[object], what: str) -> None:
    if typ != "OK":
        raise MailSourceError(f"{what}: {text_of(data)}")
