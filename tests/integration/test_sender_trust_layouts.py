"""Sender trust end to end, for each real receiving server's header layout (issue 12.1).

Per layout, a genuine reply from Ældrerådet, a forged one claiming Røde Kors (our server's
header says fail) and a forged one claiming Stille Forening (our fail on top, a planted pass
below). Through collect, ingest and assemble: only the genuine one is counted and answered;
the forged ones are listed in ``Til gennemsyn`` with the reason and get no receipt. Run on the
embedded default (a Maildir) and over Dovecot (IMAP APPEND, collected with an ``imap://`` URL).

Also here: no receipt to an unknown sender unless our server authenticated it (17.8), and
mail from our own address without our loop header listed for review (17.8).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from flows.adapters.db.tables import OutboxRow, ResponseRow
from flows.bootstrap import App, bootstrap
from flows.services import assembling, collecting, ingesting
from flows.services.opening import open_round
from flows.services.status import round_status
from flows.settings import Settings
from tests.integration.conftest import ImapMailbox

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "authres"
ROUND_ID = "test-runde"
ROUND = """\
id = "test-runde"
title = "Strategi for værestederne"
subject = "strategien"
administration = "Socialforvaltningen"
consulted_body = "Udsatterådet"
opens = 2025-10-16T00:00:00+02:00
deadline = 2025-10-24T23:59:59+02:00
reply_to = "hoering@kk.example"

[[parties]]
name = "Ældrerådet"
email = "aeldre@raad.example"

[[parties]]
name = "Røde Kors"
email = "kbh@roedekors.example"

[[parties]]
name = "Stille Forening"
email = "stille@forening.example"
"""
LAYOUTS = {
    "postfix": "mx.kk.example",
    "gmail": "mx.google.com",
    "exim-rspamd": "mail.kk.example",
    "m365": "exchange-online",
}
# the forged replies claim other parties, so that "no receipt" cannot come from the one-a-day limit
CLAIMS = {
    "pass": ("aeldre@raad.example", "raad.example"),
    "fail": ("kbh@roedekors.example", "roedekors.example"),
    "planted": ("stille@forening.example", "forening.example"),
}
AFTER = datetime.fromisoformat("2025-10-20T12:00:00+02:00")


def make_app(tmp_path: Path, **settings: Any) -> App:
    base = tmp_path / "round"
    base.mkdir(exist_ok=True)
    (base / "runde.toml").write_text(ROUND, encoding="utf-8")
    app = bootstrap(Settings(data_dir=tmp_path / "var", **settings))
    app.clock = lambda: AFTER
    open_round(app, base / "runde.toml")
    return app


def layout_message(layout: str, variant: str) -> bytes:
    address, domain = CLAIMS[variant]
    raw = (FIXTURES / f"{layout}-{variant}.eml").read_bytes()
    return raw.replace(b"aeldre@raad.example", address.encode()).replace(b"raad.example", domain.encode())


def topmost_received(raw: bytes) -> datetime:
    """When our server stamped it: the delivery time a real MDA gives the file."""
    first = BytesHeaderParser().parsebytes(raw).get_all("Received")[0]
    return parsedate_to_datetime(" ".join(str(first).split()).rpartition(";")[2].strip())


def deliver_maildir(app: App, name: str, raw: bytes, when: datetime | None = None) -> None:
    new = app.settings.resolved_data_dir / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    stamp = int((when or topmost_received(raw)).timestamp())
    (new / f"{stamp}.M1P{abs(hash(name)) % 10_000}.mx.kk.example,S={len(raw)}").write_bytes(raw)


def collect(app: App) -> None:
    collecting.fetch(app)
    for chunk in collecting.chunks(collecting.pending_raw_ids(app), 100):
        ingesting.process_batch(app, ROUND_ID, chunk)


def rows(app: App) -> list[ResponseRow]:
    with app.db.transaction() as session:
        found = list(session.scalars(select(ResponseRow).order_by(ResponseRow.number)))
        session.expunge_all()
        return found


def receipts(app: App) -> list[str]:
    with app.db.transaction() as session:
        query = select(OutboxRow.address).where(OutboxRow.purpose == "receipt")
        return sorted(session.scalars(query))


def sheet(log: Path, name: str) -> list[dict[str, Any]]:
    ws = load_workbook(log)[name]
    header = [str(c.value) for c in ws[1]]
    return [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True) if any(r)]


def assert_only_the_genuine_reply_counts(app: App, tmp_path: Path) -> None:
    verified = {r.sender: r.verified for r in rows(app)}
    assert verified == {
        "aeldre@raad.example": "pass",
        "kbh@roedekors.example": "fail",
        "stille@forening.example": "fail",
    }
    report = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    assert report.counted == 1
    statuses = {r["Høringspart"]: r["Status"] for r in sheet(report.log, "Høringsparter")}
    assert statuses == {
        "Ældrerådet": "Svar modtaget",
        "Røde Kors": "Ikke svaret",
        "Stille Forening": "Ikke svaret",
    }
    review = {r["Afsender"]: str(r["Årsag"]) for r in sheet(report.log, "Til gennemsyn")}
    assert set(review) == {"kbh@roedekors.example", "stille@forening.example"}
    assert all("verificeres" in reason and "ikke sendt kvittering" in reason for reason in review.values())
    assert receipts(app) == ["aeldre@raad.example"]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_on_the_embedded_maildir(layout: str, tmp_path: Path) -> None:
    """Maildir: only the genuine reply is counted and answered; both forgeries go to review."""
    app = make_app(tmp_path, authserv_id=LAYOUTS[layout])
    for variant in CLAIMS:
        deliver_maildir(app, f"{layout}-{variant}", layout_message(layout, variant))
    collect(app)
    # the receipt time is our server's Received: stamp, believed against the delivery time
    times = {r.sender: r.received_at for r in rows(app)}
    assert times["aeldre@raad.example"] == topmost_received(layout_message(layout, "pass"))
    assert_only_the_genuine_reply_counts(app, tmp_path)


@pytest.mark.imap
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_over_dovecot(layout: str, tmp_path: Path, imap_server: ImapMailbox) -> None:
    """IMAP: the same three replies APPENDed to Dovecot and collected over imap://."""
    app = make_app(
        tmp_path,
        authserv_id=LAYOUTS[layout],
        inbox_url=imap_server.url(),
        imap_processed_folder=imap_server.processed,
    )
    for variant in CLAIMS:
        raw = layout_message(layout, variant)
        imap_server.append(raw, when=topmost_received(raw))
    collect(app)
    assert_only_the_genuine_reply_counts(app, tmp_path)


def _plain(sender: str, name: str, extra: str = "") -> bytes:
    return (
        f"Received: from smtp.example.net by mx.kk.example; Mon, 20 Oct 2025 10:00:00 +0200\r\n{extra}"
        f"From: {sender}\r\nTo: hoering@kk.example\r\nSubject: SV: Strategi\r\n"
        f"Message-ID: <{name}@example.net>\r\n\r\nVi har en bemærkning til strategien.\r\n"
    ).encode()


def test_no_receipt_to_an_unknown_sender_unless_our_server_authenticated_it(tmp_path: Path) -> None:
    """Backscatter: an unknown, unauthenticated sender gets nothing; an authenticated one a receipt.

    Before, every unknown sender got a receipt echoing its subject, to whatever address it showed.
    """
    app = make_app(tmp_path, authserv_id="mx.kk.example")
    deliver_maildir(app, "unknown", _plain("borger@example.net", "unknown"))
    ours = "Authentication-Results: mx.kk.example; spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com\r\n"
    deliver_maildir(app, "verified", _plain("nabo@example.com", "verified", ours))
    collect(app)

    assert receipts(app) == ["nabo@example.com"]
    reasons = {r.sender: r.review_reason or "" for r in rows(app)}
    assert "ikke sendt kvittering" in reasons["borger@example.net"]
    assert "ikke sendt kvittering" not in reasons["nabo@example.com"]


def test_own_address_without_loop_header_is_listed_for_review(tmp_path: Path) -> None:
    """From our own address without our loop header: kept, listed, not counted, not answered.

    Before, it was a silent loop. Our own mail come back (loop header) stays ignored, but recorded.
    """
    app = make_app(tmp_path)
    deliver_maildir(app, "colleague", _plain("hoering@kk.example", "colleague"))
    deliver_maildir(app, "loop", _plain("hoering@kk.example", "loop", "X-Hoering-Loop: test-runde\r\n"))
    collect(app)

    by_id = {r.message_id: r for r in rows(app)}
    colleague, loop = by_id["colleague@example.net"], by_id["loop@example.net"]
    assert (colleague.kind, colleague.held) == ("response", True)
    assert loop.kind == "loop" and loop.details["verdict"].startswith("Vores egen mail kom retur")
    report = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    review = sheet(report.log, "Til gennemsyn")
    assert [r["Afsender"] for r in review] == ["hoering@kk.example"]
    assert "egen adresse" in str(review[0]["Årsag"])
    assert report.counted == 0 and receipts(app) == []


def test_a_backdated_received_header_is_not_our_receipt_time(tmp_path: Path) -> None:
    """A Received: dated 1970 on top of a file delivered on 20 October: the delivery time counts.

    Before, the 1970 header was believed, and the response was numbered and marked on time.
    """
    app = make_app(tmp_path)
    delivered = datetime.fromisoformat("2025-10-20T10:00:00+02:00")
    raw = _plain("aeldre@raad.example", "backdated").replace(b"Mon, 20 Oct 2025", b"Thu, 01 Jan 1970")
    deliver_maildir(app, "backdated", raw, when=delivered)
    collect(app)

    [row] = rows(app)
    assert row.received_at == delivered
    assert row.details["receipt_time_from"] == "maildir-filename;received-early"
    assert not row.held and assembling.assemble(app, ROUND_ID, tmp_path / "out").counted == 1


@pytest.mark.parametrize(
    ("when", "words", "included"),
    [
        ("2025-10-15T09:00:00+02:00", "før høringen åbnede", (1, 0)),
        ("2100-10-21T09:00:00+02:00", "i fremtiden", (0, 1)),  # included, it is past the deadline
    ],
)
def test_a_receipt_time_before_opening_or_in_the_future_is_held(
    tmp_path: Path, when: str, words: str, included: tuple[int, int], database_url: str
) -> None:
    """Delivered before the round opened, or later than the real moment it was fetched: held.

    (A time past the service clock alone is no sign: under --now the clock replays the past.)

    On SQLite and PostgreSQL (the count is SQL there: ``counted_clause``). Then staff include it.
    """
    app = make_app(tmp_path, database_url=database_url)
    moment = datetime.fromisoformat(when)
    raw = _plain("aeldre@raad.example", "odd").replace(
        b"Mon, 20 Oct 2025 10:00:00 +0200", moment.strftime("%a, %d %b %Y %H:%M:%S %z").encode()
    )
    deliver_maildir(app, "odd", raw, when=moment)
    collect(app)

    [row] = rows(app)
    assert row.held and words in (row.review_reason or "")
    report = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    assert (report.counted, report.review) == (0, 1)
    assert receipts(app) == []
    assert round_status(app, ROUND_ID)["responses"] == 0

    book = load_workbook(report.log)
    ws = book["Til gennemsyn"]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index("Beslutning") + 1, "Medtag")
    book.save(report.log)
    after = assembling.assemble(app, ROUND_ID, tmp_path / "out")
    assert (after.counted, after.late) == included
    assert (round_status(app, ROUND_ID)["responses"], round_status(app, ROUND_ID)["late"]) == included
    app.db.dispose()


@pytest.mark.imap
def test_internaldate_before_opening_is_held(tmp_path: Path, imap_server: ImapMailbox) -> None:
    """The IMAP path: an INTERNALDATE before the round opened is held like a Maildir time."""
    app = make_app(tmp_path, inbox_url=imap_server.url(), imap_processed_folder=imap_server.processed)
    imap_server.append(_plain("aeldre@raad.example", "early"), when=AFTER - timedelta(days=10))
    collect(app)

    [row] = rows(app)
    assert row.held and "før høringen åbnede" in (row.review_reason or "")
