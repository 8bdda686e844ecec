"""An aiosmtpd server on loopback for tests: records what arrives and injects failures on request.

Faults are queued per recipient (RCPT reply) and for DATA, so "451 once, then accept" is
``server.fail_rcpt("a@x", "451 4.3.0 try later")``; ``drop_after_data()`` closes the connection
after the message body arrived but before the final reply (the ambiguous case).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    """One accepted transaction."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    data_faults: deque[str] = field(default_factory=deque)
    drops: int = 0
    dropped: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            queue = self.rcpt_faults.get(address.lower())
            if queue:
                return queue.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        item = Received(
            str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b"")
        )
        with self.lock:
            if self.drops:
                self.drops -= 1
                self.dropped.append(item)
                transport = server.transport
                assert isinstance(transport, asyncio.Transport)
                transport.abort()  # no final reply: the client cannot know
                return "250 never seen"
            if self.data_faults:
                return self.data_faults.popleft()
            self.received.append(item)
        return "250 2.0.0 Ok: queued"


def free_port() -> int:
    """A port nobody listens on right now (aiosmtpd's readiness probe needs a real port, not 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpTestServer:
    """Start/stop an aiosmtpd ``Controller`` on 127.0.0.1 with a free port."""

    def __init__(self, **kwargs: Any) -> None:
        self.handler = _Handler()
        self._port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self._port, **kwargs)

    def start(self) -> SmtpTestServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def fail_rcpt(self, address: str, *replies: str) -> None:
        """The next RCPTs to ``address`` get these replies, in order; later ones are accepted."""
        with self.handler.lock:
            self.handler.rcpt_faults[address.lower()].extend(replies)

    def fail_data(self, *replies: str) -> None:
        with self.handler.lock:
            self.handler.data_faults.extend(replies)

    def drop_after_data(self, times: int = 1) -> None:
        with self.handler.lock:
            self.handler.drops += times
