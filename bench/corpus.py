"""A seeded synthetic consultation corpus: a round file, a party list, a Maildir and its truth.

``generate(n, out_dir)`` writes, for the same seed, byte-identical output:

* ``round.toml`` (a valid round file), ``parties.csv`` and ``udkast.pdf``;
* ``Maildir/{new,cur,tmp}``: one file per message, named ``<delivery unix time>.M<seq>P<seed>.bench``,
  each starting with the ``Received:`` header our server writes (its date is the receipt time);
* ``truth.jsonl``: one JSON object per message, in generation order, saying what it really is.

The mix follows performance.md §5.1: lognormal sizes (median about 4 KB, rare large
attachments), Danish text with æøå, RFC 2047 subjects, 8bit/QP/base64, some iso-8859-1 and
windows-1252, plain/alternative/HTML-only, filled (and broken) Excel templates, Word and PDF
letters, Zipf-sized campaigns with light edits, re-sends, auto-replies and DSN bounces.

Messages are assembled as bytes from string templates rather than through ``email.message``,
because the stdlib builder costs about a millisecond a message and 1M must stay practical.
Memory is constant: each message is written as soon as it is built; only a small ring of recent
originals is kept, to re-send from.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

from bench import office
from bench.text import (
    AWAY,
    CLOSINGS,
    GREETINGS,
    NO_REMARKS,
    ORG_TYPES,
    PLACES,
    SentencePool,
    ascii_slug,
    person_name,
    typo,
)

# The round period: 2024-10-16 00:00 +02:00 to 2024-10-25 23:59:59 +02:00 (delivery times 1729…).
OPENS = 1729029600
DEADLINE = 1729893599
DST_END = 1729990800  # 2024-10-27 01:00 UTC: Copenhagen goes from +02:00 to +01:00
OUR_SERVER = "imap.kk.example"
CC_MAILBOX = "postkasse@kk.example"
TITLE = "Forslag til lokalplan for Ørestad Syd – grønne åer og cykelstier"

# Shares of all messages; the rest are responses.
P_AUTO_REPLY = 0.03
P_BOUNCE = 0.01
P_RESEND = 0.045
P_IDENTICAL = 0.003
# Shares of responses.
P_CAMPAIGN = 0.40
P_NO_REMARKS = 0.03
P_TOKEN = 0.90
# Shares of non-campaign responses (campaign texts travel in the body).
P_TEMPLATE = 0.35
P_BROKEN = 0.15
P_DOCX = 0.05
P_PDF = 0.03
P_PHOTO = 0.01
PHOTO_CAP = 3 * 1024 * 1024
RING = 256
TEMPLATE_COVER = "Hermed vores høringssvar i det vedhæftede skema."
LETTER_COVER = "Vores høringssvar er vedhæftet som brev."


@dataclass(frozen=True)
class CorpusInfo:
    out_dir: Path
    round_file: Path
    maildir: Path
    truth: Path
    round_id: str
    messages: int
    files_bytes: int
    seconds: float
    kinds: dict[str, int]


@dataclass(frozen=True)
class Party:
    name: str
    emails: tuple[str, ...]
    domain: str | None


@dataclass
class _Msg:
    """One message being built: its MIME body, its headers and its truth line."""

    kind: str
    sender: tuple[str, str]
    subject: str
    body: bytes
    content_headers: str
    party: str | None = None
    campaign: str | None = None
    remarks: int = 0
    extra_headers: list[str] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Original:
    file: str
    core: bytes
    at: int
    truth: dict[str, Any]


# ---------------------------------------------------------------- encodings


def _q_word(text: str) -> str:
    raw = text.encode("utf-8")
    out = [
        chr(b) if (48 <= b <= 57 or 65 <= b <= 90 or 97 <= b <= 122) else ("_" if b == 32 else f"={b:02X}")
        for b in raw
    ]
    return f"=?utf-8?q?{''.join(out)}?="


def _b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="


def encode_header(text: str, style: int) -> str:
    """RFC 2047 encoded words of at most 75 characters, folded; plain ASCII stays as it is."""
    if text.isascii():
        return text
    encode = _q_word if style % 2 == 0 else _b_word
    pieces = [text[i : i + 14] for i in range(0, len(text), 14)]
    return "\n ".join(encode(piece) for piece in pieces)


def _display(name: str, address: str, style: int) -> str:
    if name.isascii():
        return f'"{name}" <{address}>'
    return f"{encode_header(name, style)} <{address}>"


def _date(t: int) -> str:
    """An RFC 5322 date in Copenhagen local time, as a Danish mail client writes it."""
    offset = 7200 if t < DST_END else 3600
    return formatdate(t + offset)[:-5] + ("+0200" if offset == 7200 else "+0100")


def _text_part(text: str, subtype: str, charset: str, cte: str) -> tuple[str, bytes]:
    raw = text.encode(charset)
    if cte == "quoted-printable":
        body = binascii.b2a_qp(raw, istext=True)
    elif cte == "base64":
        body = base64.encodebytes(raw)
    else:
        body = raw
    head = f'Content-Type: text/{subtype}; charset="{charset}"\nContent-Transfer-Encoding: {cte}\n'
    return head, body


def _attachment_part(data: bytes, ctype: str, filename: str, style: int) -> bytes:
    if filename.isascii():
        names = f'; name="{filename}"', f'; filename="{filename}"'
    elif style % 2 == 0:
        # Outlook style: RFC 2047 inside quotes, which RFC 2231 forbids but everyone reads.
        names = f'; name="{_b_word(filename)}"', f'; filename="{_b_word(filename)}"'
    else:
        quoted = "".join(
            ch
            if (ch.isascii() and ch.isalnum()) or ch in ".-_"
            else "".join(f"%{b:02X}" for b in ch.encode())
            for ch in filename
        )
        names = f'; name="{ascii_slug(filename)}"', f"; filename*=utf-8''{quoted}"
    head = (
        f"Content-Type: {ctype}{names[0]}\nContent-Disposition: attachment{names[1]}\n"
        "Content-Transfer-Encoding: base64\n\n"
    )
    return head.encode() + base64.encodebytes(data)


def _multipart(subtype: str, boundary: str, parts: Sequence[bytes]) -> tuple[str, bytes]:
    marker = f"--{boundary}\n".encode()
    body = b"".join(marker + part + b"\n" for part in parts) + f"--{boundary}--\n".encode()
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n', body


# ---------------------------------------------------------------- the generator


class _Generator:
    def __init__(self, n: int, out_dir: Path, seed: int, parties: int, round_id: str, reply_to: str) -> None:
        self.n = n
        self.out_dir = out_dir
        self.seed = seed
        self.round_id = round_id
        self.reply_to = reply_to
        self.rng = random.Random(seed)
        self.pool = SentencePool(self.rng)
        self.parties = _make_parties(self.rng, parties)
        self.bouncing = self.parties[-max(1, parties // 20) :]
        self.answering = self.parties[: -len(self.bouncing)] or self.parties
        self.party_weights = [1 / (k + 1) ** 0.8 for k in range(len(self.answering))]
        self.campaigns = _make_campaigns(self.rng, self.pool, n)
        self.campaign_weights = [1 / (k + 1) ** 1.1 for k in range(len(self.campaigns))]
        self.ring: deque[_Original] = deque(maxlen=RING)
        self.kinds: dict[str, int] = {}
        self.bytes = 0
        self.maildir = out_dir / "Maildir"

    # -- output

    def write_round(self) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        rows = ["name,email,domains"]
        rows += [f'"{p.name}",{";".join(p.emails)},{p.domain or ""}' for p in self.parties]
        (self.out_dir / "parties.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        draft = office.pdf_document(office.wrap_lines([TITLE, *self.pool.paragraphs(self.rng, 4)]))
        (self.out_dir / "udkast.pdf").write_bytes(draft)
        path = self.out_dir / "round.toml"
        path.write_text(_round_toml(self.round_id, self.reply_to), encoding="utf-8")
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        return path

    def run(self, truth_path: Path) -> None:
        with truth_path.open("w", encoding="utf-8") as truth:
            index = 0
            while index < self.n:
                for line in self._next(index):
                    truth.write(json.dumps(line, ensure_ascii=False) + "\n")
                    index += 1

    def _next(self, index: int) -> list[dict[str, Any]]:
        roll = self.rng.random()
        if self.ring and roll < P_RESEND:
            return [self._resend(index, identical=False)]
        if self.ring and roll < P_RESEND + P_IDENTICAL:
            return [self._resend(index, identical=True)]
        roll = self.rng.random()
        if roll < P_AUTO_REPLY:
            msg = self._auto_reply()
        elif roll < P_AUTO_REPLY + P_BOUNCE:
            msg = self._bounce()
        else:
            msg = self._response()
        return [self._deliver(index, msg)]

    def _file_name(self, index: int, at: int) -> tuple[str, str]:
        sub = "cur" if self.rng.random() < 0.1 else "new"
        name = f"{at}.M{index:07d}P{self.seed}.bench"
        return sub, name + (":2,S" if sub == "cur" else "")

    def _received(self, at: int, delivered_to: str) -> bytes:
        return (
            f"Received: from mx.kk.example (mx.kk.example [10.0.0.25])\n"
            f"\tby {OUR_SERVER} (Dovecot) with LMTP id b{at:x}\n\tfor <{delivered_to}>; {_date(at)}\n"
            f"Delivered-To: {delivered_to}\n"
        ).encode()

    def _delivery_time(self) -> tuple[int, bool]:
        if self.rng.random() < 0.03:
            return DEADLINE + 1 + int(self.rng.random() * 86_000), True
        # More answers near the deadline, as in real rounds.
        return OPENS + int((DEADLINE - OPENS) * self.rng.random() ** 0.6), False

    def _deliver(self, index: int, msg: _Msg) -> dict[str, Any]:
        at, late = self._delivery_time()
        domain = msg.sender[1].rpartition("@")[2]
        message_id = f"<{self.rng.getrandbits(64):016x}.{index}@{domain}>"
        sent = at - self.rng.randint(0, 90)
        core = (
            f"Received: from smtp.{domain} by mx.kk.example; {_date(sent + 1)}\n"
            f"From: {_display(msg.sender[0], msg.sender[1], index)}\nTo: {self.reply_to}\n"
            f"Subject: {msg.subject}\nDate: {_date(sent)}\nMessage-ID: {message_id}\n"
            + "".join(h + "\n" for h in msg.extra_headers)
            + f"MIME-Version: 1.0\n{msg.content_headers}\n"
        ).encode() + msg.body
        data = self._received(at, self.reply_to) + core
        sub, name = self._file_name(index, at)
        self._write(sub, name, data)
        line = {
            "file": f"{sub}/{name}",
            "kind": msg.kind,
            "party": msg.party,
            "campaign": msg.campaign,
            "duplicate_of": None,
            "remarks": msg.remarks,
            "late": late,
            "message_id": message_id,
            "sender": msg.sender[1],
            "received": at,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            **msg.truth,
        }
        if msg.kind == "response" and len(data) < 64 * 1024:
            self.ring.append(_Original(line["file"], core, at, line))
        return line

    def _resend(self, index: int, *, identical: bool) -> dict[str, Any]:
        """The same message again: Cc'ed to a second mailbox, or the very same bytes delivered twice."""
        original = self.ring[int(self.rng.random() * len(self.ring))]
        if identical:
            data = self._received(original.at, self.reply_to) + original.core
            at = original.at
        else:
            at = original.at + self.rng.randint(0, 600)
            data = self._received(at, CC_MAILBOX) + original.core
        sub, name = self._file_name(index, at)
        self._write(sub, name, data)
        line = dict(original.truth)
        line.update(
            file=f"{sub}/{name}",
            kind="duplicate",
            duplicate_of=original.file,
            remarks=0,
            late=at > DEADLINE,
            received=at,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            identical_bytes=identical,
        )
        return line

    def _write(self, sub: str, name: str, data: bytes) -> None:
        with (self.maildir / sub / name).open("wb") as handle:
            handle.write(data)
        self.bytes += len(data)

    # -- kinds

    def _sender(self, party_share: float) -> tuple[tuple[str, str], Party | None]:
        if self.rng.random() < party_share:
            party = self.rng.choices(self.answering, weights=self.party_weights)[0]
            if party.domain and self.rng.random() < 0.5:
                person = person_name(self.rng)
                local = f"{ascii_slug(person).replace('-', '.')}{self.rng.randint(1, 99)}"
                return (person, f"{local}@{party.domain}"), party
            return (party.name, self.rng.choice(party.emails)), party
        person = person_name(self.rng)
        local = f"{ascii_slug(person).replace('-', '.')}{self.rng.randint(1, 9999)}"
        return (person, f"{local}@{self.rng.choice(('borger.example', 'post.example', 'net.example'))}"), None

    def _subject(self, text: str) -> str:
        token = f"[Høring {self.round_id}] " if self.rng.random() < P_TOKEN else ""
        prefix = self.rng.choice(("SV: ", "Sv: ", "RE: ", ""))
        return encode_header(f"{prefix}{token}{text}", self.rng.randrange(4))

    def _response(self) -> _Msg:
        roll = self.rng.random()
        if roll < P_CAMPAIGN:
            return self._campaign_member()
        sender, party = self._sender(0.5)
        signature = f"{self.rng.choice(CLOSINGS)}\n{sender[0]}" + (f"\n{party.name}" if party else "")
        if roll < P_CAMPAIGN + P_NO_REMARKS:
            text = f"{self.rng.choice(NO_REMARKS)}\n\n{signature}\n"
            msg = self._text_message("response", sender, "Høringssvar", text, remarks=0)
            msg.truth["no_remarks"] = True
        else:
            msg = self._unique_response(sender, party, signature)
        msg.party = party.name if party else None
        return msg

    def _unique_response(self, sender: tuple[str, str], party: Party | None, signature: str) -> _Msg:
        roll = self.rng.random()
        name = party.name if party else sender[0]
        if roll < P_TEMPLATE:
            return self._with_template(sender, name, signature)
        if roll < P_TEMPLATE + P_DOCX + P_PDF:
            return self._with_letter(sender, signature, docx=roll < P_TEMPLATE + P_DOCX)
        paragraphs = self.pool.paragraphs(self.rng, min(25, 1 + int(self.rng.lognormvariate(1.1, 0.7))))
        quoted = ""
        if self.rng.random() < 0.15:
            quoted = "\n\n> Forvaltningen sender hermed forslaget i høring.\n> Svar senest den 25. oktober.\n"
        text = f"{self.rng.choice(GREETINGS)}\n\n" + "\n\n".join(paragraphs) + f"\n\n{signature}\n{quoted}"
        msg = self._text_message("response", sender, "Høringssvar", text, remarks=1)
        if self.rng.random() < P_PHOTO:
            self._add_photo(msg)
        return msg

    def _campaign_member(self) -> _Msg:
        number = self.rng.choices(range(len(self.campaigns)), weights=self.campaign_weights)[0]
        paragraphs = list(self.campaigns[number])
        sender, party = self._sender(0.2)
        edits = []
        if self.rng.random() < 0.3:
            paragraphs.insert(self.rng.randrange(len(paragraphs) + 1), self.pool.paragraph(self.rng, 1))
            edits.append("added_sentence")
        if self.rng.random() < 0.2:
            at = self.rng.randrange(len(paragraphs))
            paragraphs[at] = typo(self.rng, paragraphs[at])
            edits.append("typo")
        if self.rng.random() < 0.1 and len(paragraphs) > 2:
            paragraphs[0], paragraphs[1] = paragraphs[1], paragraphs[0]
            edits.append("reordered")
        greeting = self.rng.choice(GREETINGS)
        signature = f"{self.rng.choice(CLOSINGS)}\n{sender[0]}"
        text = f"{greeting}\n\n" + "\n\n".join(paragraphs) + f"\n\n{signature}\n"
        msg = self._text_message("response", sender, "Nej til forslaget", text, remarks=1)
        msg.party = party.name if party else None
        msg.campaign = f"c{number:03d}"
        msg.truth["edits"] = edits
        return msg

    def _text_message(
        self, kind: str, sender: tuple[str, str], subject: str, text: str, remarks: int
    ) -> _Msg:
        shape = self.rng.choices(("plain", "alternative", "html"), weights=(45, 40, 15))[0]
        charset = self.rng.choices(("utf-8", "iso-8859-1", "windows-1252"), weights=(85, 10, 5))[0]
        ctes = ("8bit", "quoted-printable", "base64") if charset == "utf-8" else ("8bit", "quoted-printable")
        cte = self.rng.choices(ctes, weights=(40, 40, 20)[: len(ctes)])[0]
        plain = _text_part(text, "plain", charset, cte)
        if shape == "plain":
            head, body = plain
        else:
            markup = self._html(text, entities=self.rng.random() < 0.3)
            html_part = _text_part(markup, "html", charset, cte)
            if shape == "html":
                head, body = html_part
            else:
                parts = [(h + "\n").encode() + b for h, b in (plain, html_part)]
                head, body = _multipart("alternative", f"=_alt_{self.rng.getrandbits(48):012x}", parts)
        msg = _Msg(kind, sender, self._subject(subject), body, head, remarks=remarks)
        msg.truth.update(shape=shape, charset=charset, cte=cte, attachments=[])
        return msg

    @staticmethod
    def _html(text: str, *, entities: bool) -> str:
        paragraphs = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>\n" for p in text.split("\n\n")
        )
        markup = f'<html><head><meta charset="utf-8"></head><body>\n{paragraphs}</body></html>\n'
        if entities:
            # Outlook writes æøå as named entities; readers must unescape them.
            for ch, name in (("æ", "&aelig;"), ("ø", "&oslash;"), ("å", "&aring;"), ("Ø", "&Oslash;")):
                markup = markup.replace(ch, name)
        return markup

    def _mixed(self, msg: _Msg, attachment: bytes) -> None:
        inner = (msg.content_headers + "\n").encode() + msg.body
        boundary = f"=_mix_{self.rng.getrandbits(48):012x}"
        msg.content_headers, msg.body = _multipart("mixed", boundary, [inner, attachment])

    def _with_template(self, sender: tuple[str, str], name: str, signature: str) -> _Msg:
        rows = min(200, 1 + int(self.rng.lognormvariate(1.0, 0.9)))
        remarks: list[tuple[str | int, str, str]] = [
            (
                self.rng.randint(1, 40) if self.rng.random() < 0.1 else f"Side {self.rng.randint(1, 40)}",
                self.pool.paragraph(self.rng, self.rng.randint(1, 3)),
                self.pool.paragraph(self.rng, 1) if self.rng.random() < 0.7 else "",
            )
            for _ in range(rows)
        ]
        variant = "ok"
        if self.rng.random() < P_BROKEN:
            variant = self.rng.choice(office.VARIANTS[1:])
        data = office.response_template(self.round_id, TITLE, name, remarks, variant)
        msg = self._text_message("response", sender, "Høringsskema", f"{TEMPLATE_COVER}\n\n{signature}\n", 0)
        ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        self._mixed(msg, _attachment_part(data, ctype, f"høringsskema {name}.xlsx", rows))
        # A readable template gives a remark per row; with the remark column renamed the product
        # should fall back to the cover text plus the workbook as an attachment (two remarks).
        msg.remarks = 2 if variant == "renamed_column" else rows
        msg.truth.update(attachments=["xlsx"], template=variant, template_rows=rows)
        return msg

    def _with_letter(self, sender: tuple[str, str], signature: str, *, docx: bool) -> _Msg:
        paragraphs = [
            self.rng.choice(GREETINGS),
            *self.pool.paragraphs(self.rng, self.rng.randint(2, 8)),
            signature,
        ]
        msg = self._text_message("response", sender, "Høringssvar", f"{LETTER_COVER}\n\n{signature}\n", 2)
        if docx:
            data = office.docx_letter(paragraphs)
            ctype, filename = (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "høringssvar.docx",
            )
        else:
            data = office.pdf_document(office.wrap_lines(paragraphs))
            ctype, filename = "application/pdf", "høringssvar.pdf"
        self._mixed(msg, _attachment_part(data, ctype, filename, len(paragraphs)))
        msg.truth.update(attachments=["docx" if docx else "pdf"])
        return msg

    def _add_photo(self, msg: _Msg) -> None:
        # The rare large attachment (p99 of §5.1); random bytes so nothing compresses it away.
        size = min(PHOTO_CAP, int(self.rng.lognormvariate(math.log(150_000), 1.0)))
        data = b"\xff\xd8\xff\xe0" + self.rng.randbytes(size)
        self._mixed(msg, _attachment_part(data, "image/jpeg", "foto af området.jpg", size))
        msg.truth["attachments"] = ["jpeg"]

    def _auto_reply(self) -> _Msg:
        party = self.rng.choice(self.answering)
        sender = (party.name, party.emails[0])
        text = self.rng.choice(AWAY) + "\n"
        msg = self._text_message("auto_reply", sender, "", text, remarks=0)
        msg.subject = encode_header(f"Automatisk svar: [Høring {self.round_id}] Invitation: {TITLE}", 1)
        msg.party = party.name
        with_header = self.rng.random() < 0.5
        msg.extra_headers = (
            ["Auto-Submitted: auto-replied"] if with_header else ["X-Auto-Response-Suppress: All"]
        )
        msg.truth["auto_submitted"] = with_header
        return msg

    def _bounce(self) -> _Msg:
        party = self.rng.choice(self.bouncing)
        address = party.emails[0]
        boundary = f"=_dsn_{self.rng.getrandbits(48):012x}"
        human = f"Content-Type: text/plain; charset=utf-8\n\nBeskeden kunne ikke leveres til {address}.\n".encode()
        status = (
            "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.kk.example\n\n"
            f"Final-Recipient: rfc822; {address}\nAction: failed\nStatus: 5.1.1\n"
            "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
        ).encode()
        original = (
            f"Content-Type: text/rfc822-headers\n\nMessage-ID: <invitation.{ascii_slug(party.name)}@kk.example>\n"
            f"To: {address}\nSubject: {encode_header(f'[Høring {self.round_id}] Invitation', 0)}\n"
        ).encode()
        head, body = _multipart("report", boundary, [human, status, original])
        head = head.replace("multipart/report;", "multipart/report; report-type=delivery-status;")
        msg = _Msg(
            "bounce",
            ("Mail Delivery System", "MAILER-DAEMON@mx.kk.example"),
            "Undelivered Mail Returned to Sender",
            body,
            head,
            party=party.name,
        )
        msg.extra_headers = ["Auto-Submitted: auto-replied"]
        msg.truth.update(shape="dsn", attachments=[])
        return msg


def _make_parties(rng: random.Random, count: int) -> list[Party]:
    parties = []
    for k in range(count):
        name = f"{ORG_TYPES[k % len(ORG_TYPES)]} {PLACES[(k // len(ORG_TYPES)) % len(PLACES)]}"
        if k >= len(ORG_TYPES) * len(PLACES):
            name += f" {k}"
        slug = ascii_slug(name)
        domain = f"{slug}.example" if k % 2 == 0 else None
        emails = [f"post@{slug}.example"]
        if rng.random() < 0.2:
            emails.append(f"formand@{slug}.example")
        parties.append(Party(name, tuple(emails), domain))
    return parties


def _make_campaigns(rng: random.Random, pool: SentencePool, n: int) -> list[list[str]]:
    """K campaign texts; K grows with the square root of N, as in the real large rounds."""
    count = max(3, round(math.sqrt(n) / 4))
    return [pool.paragraphs(rng, rng.randint(3, 6)) for _ in range(count)]


def _round_toml(round_id: str, reply_to: str) -> str:
    return f"""\
id = "{round_id}"
title = "{TITLE}"
subject = "lokalplanforslaget"
administration = "Teknik- og Miljøforvaltningen"
consulted_body = "Teknik- og Miljøudvalget"
opens = 2024-10-16T00:00:00+02:00
deadline = 2024-10-25T23:59:59+02:00
reply_to = "{reply_to}"
documents = ["udkast.pdf"]
reminders = ["3d", "1d"]
late_policy = "flag"
parties = "parties.csv"
"""


def generate(
    n: int,
    out_dir: Path,
    *,
    seed: int = 1,
    parties: int = 50,
    round_id: str = "bench-round",
    reply_to: str = "hoering-bench@kk.example",
) -> CorpusInfo:
    """Write the corpus for ``n`` messages under ``out_dir`` (see the module docstring)."""
    if n < 1 or parties < 2:
        msg = "n must be at least 1 and parties at least 2"
        raise ValueError(msg)
    started = time.perf_counter()
    generator = _Generator(n, out_dir, seed, parties, round_id, reply_to)
    round_file = generator.write_round()
    truth = out_dir / "truth.jsonl"
    generator.run(truth)
    return CorpusInfo(
        out_dir=out_dir,
        round_file=round_file,
        maildir=generator.maildir,
        truth=truth,
        round_id=round_id,
        messages=n,
        files_bytes=generator.bytes,
        seconds=time.perf_counter() - started,
        kinds=count_kinds(truth),
    )


def count_kinds(truth: Path) -> dict[str, int]:
    kinds: dict[str, int] = {}
    with truth.open(encoding="utf-8") as lines:
        for line in lines:
            kind = json.loads(line)["kind"]
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def read_truth(truth: Path) -> list[dict[str, Any]]:
    with truth.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]
