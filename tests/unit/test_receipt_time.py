"""Receipt time in a Maildir: our Received: stamp only when the delivery time vouches for it (17.4)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.adapters.maildir_source import receipt_time
from flows.core.deadline import receipt_time_holds

DELIVERED = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
NAME = f"{int(DELIVERED.timestamp())}.M1P2.mx.kk.example"


def _raw(stamp: str) -> bytes:
    return f"Received: from a by mx.kk.example; {stamp}\r\nFrom: a@b.example\r\n\r\nx\r\n".encode()


@pytest.mark.parametrize(
    ("stamp", "expected", "how"),
    [
        ("Mon, 20 Oct 2025 09:59:40 +0200", datetime(2025, 10, 20, 7, 59, 40, tzinfo=UTC), "received-header"),
        ("Mon, 20 Oct 2025 09:50:00 +0200", datetime(2025, 10, 20, 7, 50, tzinfo=UTC), "received-header"),
        ("Thu, 01 Jan 1970 00:00:00 +0000", DELIVERED, "maildir-filename;received-early"),
        ("Mon, 20 Oct 2025 09:30:00 +0200", DELIVERED, "maildir-filename;received-early"),
        ("Fri, 01 Jan 2100 00:00:00 +0000", DELIVERED, "maildir-filename;received-late"),
    ],
)
def test_received_header_is_believed_only_just_before_delivery(
    stamp: str, expected: datetime, how: str
) -> None:
    """Within 15 minutes before the delivery time it is our stamp; 1970, 2100 or 30 minutes early is not."""
    assert receipt_time(_raw(stamp), NAME) == (expected, how)


def test_without_a_timestamp_in_the_name_the_mtime_is_the_delivery_time() -> None:
    raw = _raw("Thu, 01 Jan 1970 00:00:00 +0000")
    assert receipt_time(raw, "odd-name", DELIVERED.timestamp()) == (DELIVERED, "maildir-mtime;received-early")
    assert receipt_time(b"From: a@b.example\r\n\r\nx", NAME) == (DELIVERED, "maildir-filename")


def test_receipt_times_that_cannot_be_right_are_held() -> None:
    opens = datetime(2025, 10, 16, tzinfo=UTC)
    assert receipt_time_holds(DELIVERED, opens, DELIVERED) == []
    [early] = receipt_time_holds(datetime(2025, 10, 15, tzinfo=UTC), opens, DELIVERED)
    assert "før høringen åbnede" in early and "16.10.2025" in early
    [future] = receipt_time_holds(datetime(2025, 10, 21, tzinfo=UTC), opens, DELIVERED)
    assert "i fremtiden" in future
