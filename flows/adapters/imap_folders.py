"""Folder names between hoering's settings and an IMAP server.

A folder is configured the way a mail client shows it: ``Høringssvar/Behandlet``, with ``/``
between the levels whatever the server uses. On the wire (RFC 3501 §5.1) a name is

* in modified UTF-7 (``imap_utf7``): ``Høringssvar`` is ``H&APg-ringssvar``. hoering does not
  ``ENABLE UTF8=ACCEPT`` (RFC 6855): every IMAP4rev1 server understands modified UTF-7, and
  staying with one encoding keeps the cursor key and the folder names the same on every server;
* with the server's own hierarchy delimiter between the levels (``/`` on Dovecot and Exchange,
  ``.`` on Courier, Cyrus and many Dovecot set-ups), as ``LIST "" ""`` reports it;
* a quoted string (imaplib sends arguments verbatim), so spaces, ``"`` and ``\\`` are safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from flows.adapters import imap_utf7

#: how levels are written in the settings, whatever the server uses
CONFIG_DELIMITER = "/"

_LIST_HEAD = re.compile(rb'^\(([^)]*)\)\s+(NIL|"(?:\\.|[^"\\])")\s+', re.IGNORECASE)
_LITERAL_TAIL = re.compile(rb"\{\d+\+?\}$")


class FolderNameError(ValueError):
    """A configured folder name the server cannot hold (an empty level, the server's delimiter)."""


@dataclass(frozen=True)
class ListedFolder:
    """One answer line of ``LIST``: the name decoded to text, levels joined by ``/``."""

    name: str
    wire: str
    delimiter: str | None
    flags: frozenset[str]


def wire_name(folder: str, delimiter: str | None) -> str:
    """The configured ``folder`` as the quoted mailbox argument for SELECT/CREATE/MOVE/…."""
    return quote(imap_utf7.encode(server_path(folder, delimiter)))


def server_path(folder: str, delimiter: str | None) -> str:
    """The configured ``folder`` with the server's delimiter between its levels (still text)."""
    if folder.upper() == "INBOX":
        return "INBOX"  # case-insensitive on every server (RFC 3501 §5.1)
    levels = folder.split(CONFIG_DELIMITER)
    if any(not level.strip() for level in levels):
        msg = f"IMAP-mappen {folder!r} har et tomt niveau (to '/' i træk eller '/' først eller sidst)"
        raise FolderNameError(msg)
    if delimiter is None:  # a flat server: the name is one level, '/' and all
        return folder
    clash = [level for level in levels if delimiter in level]
    if clash:
        msg = (
            f"IMAP-mappen {folder!r} kan ikke oprettes: serveren adskiller mappeniveauer med "
            f"{delimiter!r}, og det tegn står i {clash[0]!r}"
        )
        raise FolderNameError(msg)
    return delimiter.join(levels)


def quote(name: str) -> str:
    """A mailbox name as an IMAP quoted string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_list(data: Sequence[object]) -> list[ListedFolder]:
    """imaplib's ``LIST`` answer as folders; lines that are not LIST answers are skipped.

    A line is ``(flags) "delim" name`` where name is an atom, a quoted string, or a literal,
    which imaplib hands over as a tuple (line ending in ``{n}``, the literal's bytes).
    """
    folders: list[ListedFolder] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], bytes):
            head, literal = item[0], item[1]
            if not isinstance(literal, bytes) or not _LITERAL_TAIL.search(head):
                continue
            parsed = _parse_head(_LITERAL_TAIL.sub(b"", head).rstrip() + b" ")
            raw = literal
        elif isinstance(item, bytes):
            parsed = _parse_head(item)
            raw = _unquote(item[parsed[2] :].strip()) if parsed else b""
        else:
            continue
        if parsed is None:
            continue
        flags, delimiter, _end = parsed
        folders.append(_listed(raw, delimiter, flags))
    return folders


def delimiter_of(data: Sequence[object]) -> str | None:
    """The hierarchy delimiter from the answer to ``LIST "" ""`` (``None``: a flat server)."""
    folders = parse_list(data)
    return folders[0].delimiter if folders else CONFIG_DELIMITER  # no answer: the common '/'


def same_folder(listed: str, configured: str) -> bool:
    """Whether two folder paths (levels joined by ``/``) name one folder; INBOX in any case."""
    return _inbox_upper(listed) == _inbox_upper(configured)


def _inbox_upper(folder: str) -> str:
    first, sep, rest = folder.partition(CONFIG_DELIMITER)
    return ("INBOX" if first.upper() == "INBOX" else first) + sep + rest


def _parse_head(line: bytes) -> tuple[frozenset[str], str | None, int] | None:
    found = _LIST_HEAD.match(line)
    if found is None:
        return None
    flags = frozenset(f.decode("ascii", "replace").lower() for f in found.group(1).split())
    token = found.group(2)
    delimiter = None if token.upper() == b"NIL" else _unquote(token).decode("ascii", "replace")
    return flags, delimiter, found.end()


def _unquote(token: bytes) -> bytes:
    if len(token) >= 2 and token.startswith(b'"') and token.endswith(b'"'):
        return re.sub(rb"\\(.)", rb"\1", token[1:-1])
    return token


def _listed(raw: bytes, delimiter: str | None, flags: frozenset[str]) -> ListedFolder:
    wire = raw.decode("utf-8", "replace")
    try:
        text = imap_utf7.decode(raw)
    except (imap_utf7.ImapUtf7Error, UnicodeDecodeError):
        text = wire  # not ours to judge: compare it as the server wrote it
    if delimiter and delimiter != CONFIG_DELIMITER and text.upper() != "INBOX":
        text = CONFIG_DELIMITER.join(text.split(delimiter))
    return ListedFolder(name=text, wire=wire, delimiter=delimiter, flags=flags)
