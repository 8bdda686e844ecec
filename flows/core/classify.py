"""What an incoming message is: our own mail come back, a bounce, an auto-reply, or a response.

Pure: reads only a ``ParsedMessage``. The order matters (intake-reliability.md §6 cases 13-16):
a loop (our loop header, or a Message-ID we sent) is checked first so our own invitation echoed
back is never taken for anything else; mail from our own address without those is held for
review, not dropped (a colleague may answer from the shared mailbox; a forger may pose as us); a
bounce before an auto-reply because many bounces also carry ``Auto-Submitted``; everything
that is none of these is a response. Sender trust (contract "Sender trust") is judged for every
message, because staff see it in ``Til gennemsyn`` whatever the kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.core import authresults
from flows.core.addresses import AddressError, normalise_address
from flows.core.message import DeliveryReport, ParsedMessage
from flows.core.model import Kind

LOOP_HEADER = "x-hoering-loop"
OWN_ADDRESS_HOLD = (
    "Afsendt fra vores egen adresse uden vores loop-mærke (X-Hoering-Loop): kan være en kollega, "
    "der svarer fra den fælles postkasse, eller en forfalskning – tælles ikke, før det medtages"
)

# Subjects of bounces that are not RFC 3464 DSNs (Exchange, Gmail, Exim, Postfix, qmail and
# Danish/French/German localisations); matched case-insensitively anywhere in the subject.
_BOUNCE_SUBJECT = re.compile(
    r"undeliverable|undelivered mail|delivery status notification \((failure|delay)\)"
    r"|delivery (has )?failed|mail delivery failed|failure notice|returned mail|returned to sender"
    r"|delivery failure|mail system error|non[- ]?delivery|could not be delivered"
    r"|ikke leveret|kunne ikke leveres|non remis|unzustellbar|nicht zustellbar"
    r"|unable to deliver|message not delivered|delivery notification: delivery has failed"
    r"|^delivery status\b|error sending your mail|delivery problem",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_BOUNCE_DISPLAY = re.compile(r"mail delivery (subsystem|system)|mailer[- ]?daemon", re.IGNORECASE)
# Amazon SES delivers bounces to the sender as an SNS notification with a JSON body
_SES_BOUNCE = re.compile(r'notificationType\\?"\s*:\s*\\?"Bounce', re.IGNORECASE)

# Exchange often sends an out-of-office reply with no auto headers at all: only the subject tells.
_AUTO_SUBJECT = re.compile(
    r"^\s*(automatisk svar|autosvar|out of office|fraværende|abwesenheitsnotiz|automatic reply"
    r"|auto|frånvaro|fravær|autoreply|auto-reply|réponse automatique)\b\s*[:\-]?",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}

# Lines of a non-DSN bounce body that name a failed recipient (the address is on the line or next to it).
_FAILURE_LINE = re.compile(
    r"fail|550|551|552|553|554|5\.\d\.\d|user unknown|no such user|does not exist|unknown user"
    r"|mailbox unavailable|rejected|undeliverable|could not be delivered|kunne ikke leveres",
    re.IGNORECASE,
)
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_BODY_MESSAGE_ID = re.compile(r"(?im)^[ \t>]*message-id:[ \t]*<([^<>\s]+)>")


@dataclass
class Classification:
    """The verdict. ``reason`` is Danish, shown in ``Til gennemsyn``.

    ``temporary`` marks a delay notice (``Action: delayed``): kind BOUNCE, but the invitation is
    not undelivered yet, so ``bounced_recipients``/``bounced_message_ids`` stay empty and the
    delayed addresses go to ``delayed_recipients`` instead.

    ``hold`` (Danish) keeps a response out of the count and in ``Til gennemsyn`` until staff
    decide.
    """

    kind: Kind
    reason: str = ""
    bounced_recipients: list[str] = field(default_factory=list)
    bounced_message_ids: list[str] = field(default_factory=list)
    verified: str = "none"
    temporary: bool = False
    delayed_recipients: list[str] = field(default_factory=list)
    hold: str = ""


def classify(
    msg: ParsedMessage,
    *,
    own_addresses: set[str],
    own_message_ids: set[str],
    authserv_id: str | None,
) -> Classification:
    """Loop → bounce → auto-reply → response, with the sender-trust verdict attached."""
    own = {a.strip().lower() for a in own_addresses}
    own_ids = {i.strip().strip("<>") for i in own_message_ids}
    verdict = _loop(msg, own_ids) or _bounce(msg, own) or _auto_reply(msg)
    if verdict is None:
        verdict = Classification(Kind.RESPONSE)
        if msg.from_address and msg.from_address.lower() in own:
            # Not our mail come back (that carries our loop header): a colleague answering from
            # the shared mailbox, or a forgery. Staff decide; nothing is sent to it.
            verdict.hold = OWN_ADDRESS_HOLD
    verdict.verified = sender_verified(msg, authserv_id)
    return verdict


# ---------------------------------------------------------------------------------------------
# loops


def _loop(msg: ParsedMessage, own_ids: set[str]) -> Classification | None:
    """Our own mail come back: it carries our loop header, or a Message-ID we sent."""
    if msg.header(LOOP_HEADER):
        return Classification(Kind.LOOP, "Vores egen mail kom retur (X-Hoering-Loop) – ignoreret")
    if msg.message_id and msg.message_id.strip("<>") in own_ids:
        return Classification(Kind.LOOP, "Vores egen udsendte mail kom retur – ignoreret")
    return None


# ---------------------------------------------------------------------------------------------
# bounces


def _bounce(msg: ParsedMessage, own: set[str]) -> Classification | None:
    if msg.delivery_reports:
        return _from_dsn(msg, own)
    if not _looks_like_bounce(msg):
        return None
    return _non_dsn(msg, own)


def _non_dsn(msg: ParsedMessage, own: set[str]) -> Classification:
    recipients = _failed_recipients(msg, own)
    ids = _returned_ids(msg)
    who = ", ".join(recipients) if recipients else "ukendt modtager"
    return Classification(
        Kind.BOUNCE,
        f"Returmail: en mail kunne ikke leveres ({who})",
        bounced_recipients=recipients,
        bounced_message_ids=ids,
    )


def _from_dsn(msg: ParsedMessage, own: set[str]) -> Classification:
    failed = [r for r in msg.delivery_reports if _action(r) == "failed"]
    delayed = [r for r in msg.delivery_reports if _action(r) == "delayed"]
    success = [r for r in msg.delivery_reports if _action(r) in ("delivered", "relayed", "expanded")]
    if not failed and not delayed and not success and _looks_like_bounce(msg):
        return _non_dsn(msg, own)  # a report we cannot read, on a message that is plainly a bounce
    if not failed and not delayed:
        # a success notice (delivered/relayed/expanded): machine mail, never a response
        return Classification(Kind.AUTO_REPLY, "Leveringskvittering fra mailserveren – tælles ikke med")
    if not failed:
        addresses = _unique(r.recipient for r in delayed)
        return Classification(
            Kind.BOUNCE,
            f"Forsinket levering (midlertidigt, ikke afvist endnu): {', '.join(addresses) or 'ukendt modtager'}",
            temporary=True,
            delayed_recipients=addresses,
        )
    recipients = _unique(r.recipient for r in failed) or _failed_recipients(msg, own)
    detail = "; ".join(_describe(r.status, r.diagnostic) for r in failed[:3])
    return Classification(
        Kind.BOUNCE,
        f"Returmail: kunne ikke leveres til {', '.join(recipients) or 'ukendt modtager'} ({detail})",
        bounced_recipients=recipients,
        bounced_message_ids=_returned_ids(msg),
    )


def _action(report: DeliveryReport) -> str:
    """The DSN action; some MTAs omit it, and then the status class says it (5 failed, 4 delayed)."""
    action = report.action.strip().lower()
    if action.startswith("fail"):
        return "failed"
    if action.startswith("delay"):
        return "delayed"
    if action:
        return action
    return {"5": "failed", "4": "delayed"}.get(report.status.strip()[:1], "")


def _describe(status: str, diagnostic: str) -> str:
    text = " ".join(part for part in (status, diagnostic[:200]) if part)
    return text or "ingen detaljer"


def _looks_like_bounce(msg: ParsedMessage) -> bool:
    if msg.header("x-failed-recipients"):
        return True
    sender = (msg.from_address or "").lower()
    raw_from = msg.first("from")
    if (
        _BOUNCE_SENDER.match(sender)
        or _BOUNCE_DISPLAY.search(msg.from_display)
        or _BOUNCE_DISPLAY.search(raw_from)
    ):
        return True
    if _BOUNCE_SUBJECT.search(msg.subject) or _SES_BOUNCE.search(msg.body_text[:20_000]):
        return True
    # A null Return-Path (or From) alone is not enough: RFC 3834 auto-replies use it too. Only
    # with failure wording in the body and no auto-reply marker is it read as a bounce.
    null_path = any(v.strip() == "<>" for v in [*msg.header("return-path"), raw_from])
    return null_path and not _auto_reply_marker(msg) and bool(_FAILURE_LINE.search(msg.body_text[:20_000]))


def _failed_recipients(msg: ParsedMessage, own: set[str]) -> list[str]:
    """X-Failed-Recipients, else addresses on or beside failure lines of the body."""
    header = [a for v in msg.header("x-failed-recipients") for a in _ADDRESS.findall(v)]
    found = _clean_addresses(header, msg, own)
    return found or _clean_addresses(_body_candidates(msg.body_text), msg, own)


def _body_candidates(body: str) -> list[str]:
    lines = body[:200_000].splitlines()[:5_000]
    candidates: list[str] = []
    for index, line in enumerate(lines):
        if not _FAILURE_LINE.search(line):
            continue
        for near in lines[max(0, index - 1) : index + 2]:
            if near.lstrip().lower().startswith(("from:", "to:", "return-path:", "message-id:", "received:")):
                continue  # quoted headers of the returned original, not a failed recipient
            candidates.extend(_ADDRESS.findall(near))
    return candidates


def _clean_addresses(candidates: list[str], msg: ParsedMessage, own: set[str]) -> list[str]:
    exclude = own | {a.lower() for a in msg.to} | {(msg.from_address or "").lower()}
    found: list[str] = []
    for candidate in candidates:
        try:
            address = normalise_address(candidate.strip(".<>"))
        except AddressError:
            continue
        if address in exclude or _BOUNCE_SENDER.match(address) or address in found:
            continue
        found.append(address)
    return found[:50]


def _returned_ids(msg: ParsedMessage) -> list[str]:
    """The returned original's Message-ID: from the parser, else a quoted header in the body."""
    ids = [msg.returned_message_id] if msg.returned_message_id else []
    ids += _BODY_MESSAGE_ID.findall(msg.body_text[:200_000])
    own_id = (msg.message_id or "").strip("<>")
    return [i for i in _unique(i.strip("<>") for i in ids) if i != own_id][:10]


def _unique(values: Iterable[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


# ---------------------------------------------------------------------------------------------
# auto-replies


def _auto_reply(msg: ParsedMessage) -> Classification | None:
    marker = _auto_reply_marker(msg)
    if marker is None:
        return None
    return Classification(Kind.AUTO_REPLY, f"Automatisk svar (fx fravær) – tælles ikke med ({marker})")


def _auto_reply_marker(msg: ParsedMessage) -> str | None:
    auto = msg.first("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto[:40]}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if msg.header(name):
            return name
    precedence = msg.first("precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    if _AUTO_SUBJECT.match(msg.subject):
        return "emnelinjen"
    return None


# ---------------------------------------------------------------------------------------------
# sender trust


def sender_verified(msg: ParsedMessage, authserv_id: str | None) -> str:
    """ "fail", "pass" or "none" from the Authentication-Results our own server wrote."""
    if not authserv_id:
        return authresults.Trust.NONE.value
    headers = authresults.believed(_ordered(msg, ("authentication-results", "received")), authserv_id)
    return authresults.verdict(headers, msg.from_address, authserv_id).value


def _ordered(msg: ParsedMessage, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, value) of the named headers in file order.

    ``ParsedMessage.headers`` keeps order within a name only; ``header_order`` (every name in
    file order, from the parser) restores the order across names. Without it, the values of
    each name are taken in their own order, A-R headers first (no Received boundary is known).
    """
    if not msg.header_order:
        return [(name, value) for name in names for value in msg.header(name)]
    seen: dict[str, int] = dict.fromkeys(names, 0)
    ordered: list[tuple[str, str]] = []
    for name in msg.header_order:
        if name not in seen:
            continue
        values = msg.header(name)
        if seen[name] < len(values):
            ordered.append((name, values[seen[name]]))
        seen[name] += 1
    return ordered
