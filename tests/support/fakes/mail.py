"""A mailer that keeps what it is given and answers as a test tells it to."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from flows.core.model import SendOutcome, SendResult

SENT = SendResult(SendOutcome.SENT.value, 250, "OK")


class FakeMailer:
    """``answer(recipient)`` gives each attempt's result (default: accepted); ``sent`` every attempt."""

    def __init__(self, answer: Callable[[str], SendResult] | None = None) -> None:
        self.answer = answer or (lambda _recipient: SENT)
        self.attempts: list[tuple[EmailMessage, str]] = []
        self.closed = 0

    def send(self, message: EmailMessage, recipient: str) -> SendResult:
        self.attempts.append((message, recipient))
        return self.answer(recipient)

    def close(self) -> None:
        self.closed += 1

    def recipients(self) -> list[str]:
        return [recipient for _message, recipient in self.attempts]
