"""A loopback SMTP server that accepts and counts mail: the invite stage's destination."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.bytes += len(envelope.content or b"")
        return "250 OK"


class SmtpSink:
    """``with SmtpSink() as sink:`` listens on 127.0.0.1 (never elsewhere) on a free port."""

    def __init__(self) -> None:
        self._handler = _Counter()
        # aiosmtpd cannot self-test on port 0, so take a free port from the OS first.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._controller = Controller(self._handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    @property
    def count(self) -> int:
        return self._handler.count
