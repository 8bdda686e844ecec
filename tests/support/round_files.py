"""A round file of N parties and a Maildir of one reply from each: the e2e tests' and benches' round.

Party ``n`` is ``svar{n:05d}@{domain}`` (``domain`` defaults to ``{round_id}.example``), and its
reply is the message the inbox holds for it, received ten seconds after the one before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

START = datetime(2025, 10, 20, 8, tzinfo=UTC)


def party_email(n: int, domain: str) -> str:
    return f"svar{n:05d}@{domain}"


def round_file(
    base: Path,
    round_id: str,
    parties: int,
    *,
    domain: str | None = None,
    reply_to: str | None = None,
    name: str | None = None,
) -> Path:
    """``base/<name or round_id>.toml``: a round open 16–24 October 2025 with ``parties`` parties."""
    domain = domain or f"{round_id}.example"
    entries = "".join(
        f'\n[[parties]]\nname = "Forening {n:05d}"\nemail = "{party_email(n, domain)}"\n'
        for n in range(parties)
    )
    base.mkdir(parents=True, exist_ok=True)
    (base / "udkast.pdf").write_bytes(b"%PDF-1.4\n")
    path = base / f"{name or round_id}.toml"
    path.write_text(
        f"""id = "{round_id}"
title = "Strategi for samarbejde"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Frivillig- og Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "{reply_to or f"{round_id}@kk.example"}"
documents = ["udkast.pdf"]
reminders = []
{entries}""",
        encoding="utf-8",
    )
    return path


def fill_inbox(
    maildir: Path, round_id: str, replies: int, *, domain: str | None = None, to: str | None = None
) -> None:
    """One reply from each of the first ``replies`` parties, in ``maildir/new``."""
    domain = domain or f"{round_id}.example"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for n in range(replies):
        received = START + timedelta(seconds=10 * n)
        message = EmailMessage()
        message["Received"] = f"from mx.example.org by imap.kk.example; {format_datetime(received)}"
        message["From"] = party_email(n, domain)
        message["To"] = to or f"{round_id}@kk.example"
        message["Subject"] = f"SV: [Høring {round_id}] Strategi for samarbejde"
        message["Date"] = format_datetime(received)
        message["Message-ID"] = make_msgid(domain=f"forening{n:05d}.example")
        message.set_content(f"Forening {n:05d} bakker op, men ønsker afsnit {n % 7 + 1} skærpet.")
        name = f"{int(received.timestamp())}.M{n}P{len(round_id)}.mx:2,"
        (maildir / "new" / name).write_bytes(message.as_bytes())
